// Package deploy holds what runs sessiond in production beside the binary:
// the systemd unit (sessiond.service); the Dockerfile and sessiond.conf sit
// at the repository root. Its tests check each of them: the config file
// starts a real sessiond, the unit passes systemd-analyze verify (where
// systemd is installed) and a parse of its directives, and the Dockerfile a
// parse of its stages, user, volume and healthcheck (and docker build where
// a daemon answers).
package deploy
