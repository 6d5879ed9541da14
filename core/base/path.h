/* path: joining and splitting file names as strings, without touching the
 * file system. Every layer that turns a name in a manifest, a bundle or a
 * plugin path into a file name uses these, so "relative to what" has one
 * answer: the folder of the file that named it. */
#ifndef KEEL_BASE_PATH_H
#define KEEL_BASE_PATH_H

/* The folder part of path ("." when it has none); malloc'd. */
char *keel_path_dirname(const char *path);
/* The last component of path (borrowed pointer into path). */
const char *keel_path_basename(const char *path);
/* path itself when absolute or dir is NULL/empty, else "dir/path";
 * malloc'd, NULL when out of memory. */
char *keel_path_join(const char *dir, const char *path);
/* $VAR when it is an absolute path (the XDG rule: a relative one is
 * ignored), else $HOME/fallback (the passwd entry's home without $HOME);
 * malloc'd, NULL when out of memory. Settings and the plugin registry
 * cache share it. */
char *keel_path_xdg_dir(const char *var, const char *fallback);

#endif
