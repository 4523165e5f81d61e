package commands

//go:generate go run ../internal/gendocs ../docs/commands.md
