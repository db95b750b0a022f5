//go:build unix && !linux

package fdio

const noatime = 0 // O_NOATIME is Linux's
