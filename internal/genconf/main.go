// Command genconf writes sessiond.conf, the config file listing every
// parameter of the table at its default with its comment (config.Render).
// Run by "go generate ./config".
package main

import (
	"flag"
	"log"
	"os"

	"github.com/sessiond/sessiond/config"
)

func main() {
	out := flag.String("o", "sessiond.conf", "file to write")
	flag.Parse()
	if err := os.WriteFile(*out, config.Defaults().Render(), 0o644); err != nil {
		log.Fatalf("genconf: %v", err)
	}
}
