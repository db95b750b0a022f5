//go:build linux

// Command images builds fsdiff's btrfs test images and their ground truth:
//
//	sudo go run ./testdata/images -o DIR [scenario...]
//
// For each scenario (default: all) it writes DIR/<scenario>.img, a 256 MiB
// sparse btrfs image, and DIR/<scenario>.truth.json, every change fsdiff
// must report with paths as base64 bytes. The same images are built by the
// tests themselves; this command is for looking at them by hand:
//
//	sudo mount -o loop DIR/blank.img /mnt && sudo fsdiff --mount /mnt --root root
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
)

func main() {
	out := flag.String("o", ".", "directory to write images and truth files to")
	flag.Parse()
	scenarios := flag.Args()
	if len(scenarios) == 0 {
		scenarios = imagetest.Scenarios
	}
	for _, s := range scenarios {
		img, err := imagetest.Build(*out, s)
		if err != nil {
			fmt.Fprintln(os.Stderr, "images:", err)
			os.Exit(1)
		}
		fmt.Printf("%s: %d changes\n", img.File, len(img.Truth))
	}
}
