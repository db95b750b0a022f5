// Package change holds the words every stage of fsdiff shares: a [Change]
// to one path, its [Kind] and [Type], and the [Info] on what was audited.
// Sources produce them, classification, reports, suggestions and watches
// consume them; none of those needs the kernel code that finds changes, so
// this package imports nothing of ours.
package change
