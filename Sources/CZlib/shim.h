// zlib (Debian: zlib1g-dev), used to read gzip'd IDX files.
#include <zlib.h>
