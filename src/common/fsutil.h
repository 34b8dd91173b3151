/* fsutil.h — files and folders named by untrusted input, and folders we write.
 *
 * Inputs: olm_open_regular() refuses anything but a regular file (a FIFO, a device
 * or a folder given as model.onnx or tokenizer.json would block or mislead); every
 * whole-file read (olm_read_file) goes through it. A relative path taken from a file
 * (external-data location, file name in a config or index, a Hub listing entry) is
 * used only when olm_path_is_inside() says it stays inside its folder.
 *
 * Outputs: build-model, convert and quantize write a model folder through
 * olm_outdir: everything goes to a staging folder next to the destination, which is
 * renamed into place only when complete; a failure midway leaves the destination
 * as it was. An output that is one of the inputs (same device and inode, however
 * it is spelled: "m", "m/", "./m", a symlink) is refused before anything is written. */
#ifndef OLM_COMMON_FSUTIL_H
#define OLM_COMMON_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include "onnxllm.h"

/* open(path, O_RDONLY | O_CLOEXEC) that fails (ONNXLLM_ERR_IO, message naming the
 * kind: FIFO, device, folder, ...) unless path is a regular file; never blocks on a
 * FIFO. Returns the fd or -1. */
int olm_open_regular(const char *path, onnxllm_error *err);

/* A relative path from untrusted input that stays inside its folder: not empty, not
 * absolute, no "." / ".." / empty components, no backslash or control characters.
 * (Symbolic links inside the folder are the folder owner's business: a Hugging Face
 * cache snapshot is made of them.) */
bool olm_path_is_inside(const char *rel);

/* mkdir -p: creates dir and its missing parents (mode 0777 & ~umask). Fails on "",
 * on a component that exists and is not a folder, or on any other error. */
onnxllm_status olm_mkdir_p(const char *dir, onnxllm_error *err);

/* true when a and b both exist and are the same file or folder (device + inode). */
bool olm_same_file(const char *a, const char *b);

/* rm -r that never follows a symbolic link (a link is removed, not its target). */
void olm_remove_tree(const char *path);

/* fsync of a folder (makes renames in it durable); errors ignored. */
void olm_fsync_dir(const char *dir);

/* Replaces folder `dst` by folder `src` in one step (RENAME_EXCHANGE; where the
 * filesystem lacks it, dst is absent for a moment but never incomplete). What was in
 * dst ends up at src; keep_foreign moves the entries of the old dst that src lacks
 * into the new dst first. The old version is then deleted. dst may be absent. */
onnxllm_status olm_replace_dir(const char *src, const char *dst, bool keep_foreign, onnxllm_error *err);

/* ---- atomic output folders -----------------------------------------------------*/
typedef struct olm_outdir {
    char *dst;     /* the folder asked for (trailing slashes removed) */
    char *path;    /* where to write now: the staging folder DST.tmp-XXXXXX */
} olm_outdir;

/* Refuses when dst is (the same file as) one of the n inputs, creates dst's parent
 * folders and an empty staging folder next to dst. dst may exist (it must be a folder);
 * it is replaced by commit. */
onnxllm_status olm_outdir_begin(olm_outdir *o, const char *dst, const char *const *inputs, size_t n_inputs,
                                onnxllm_error *err);
/* Moves the staging folder into place (olm_replace_dir with keep_foreign: files in an
 * existing dst that this write does not make are kept) and frees o. */
onnxllm_status olm_outdir_commit(olm_outdir *o, onnxllm_error *err);
/* Deletes the staging folder and frees o (after a failure; no-op after commit). */
void olm_outdir_abort(olm_outdir *o);
/* The write's status st: OK → commit (its status), else abort and st. */
onnxllm_status olm_outdir_finish(olm_outdir *o, onnxllm_status st, onnxllm_error *err);

#endif
