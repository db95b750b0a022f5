// Package testenv says what a test does when the machine lacks something it
// needs (root, a tool, a kernel setting, files next to the repository):
// skip with the reason on a developer's machine, fail when CI is set. CI
// runs as root with every tool installed, so a skip there would hide an
// untested path. Only tests and their helper packages import it.
package testenv
