// Package doctest runs the examples of the documentation (README.md,
// docs/*.md, clients/node/README.md) against a live sessiond, so they cannot
// drift from what the server does. A fenced block is marked by its info
// string:
//
//	```sh            run with bash (set -euo pipefail); redis-cli reaches the test server
//	```sh norun      checked with bash -n only (it starts a server, clones, installs ...)
//	```sh needs=F    run by the Node guide suite, which starts the program of block file=F
//	```redis-cli     each line typed at the redis-cli prompt
//	```python run    run with python3 (SESSIOND_PORT names the server)
//	```go file=F     a main package: built and run (SESSIOND_ADDR names the server)
//
// A line of output that is an error reply (ERR ..., WRONGTYPE ...) or
// redis-cli's "Invalid argument(s)" fails the block. The test also refuses
// links and file paths that name no file of the repository, and words about
// how the project was planned.
package doctest
