#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QString>

namespace gd {

// Writes a whole file so that readers see either the old or the new content, never a mix:
// temp file in the same directory, flush, fsync, rename over the target.
class AtomicFile
{
public:
    // Returns a null Error on success; on failure the previous file (if any) is untouched and
    // the error names the path and the OS reason (e.g. "No space left on device").
    enum class Sync
    {
        Durable, // fsync before the rename: after a crash or power loss the file is old or new, whole
        None,    // readers still see old or new, whole; a power loss may lose the new content (caches)
    };
    static Error write(const QString& path, const QByteArray& data, Sync sync = Sync::Durable);
    // The same publish sequence, but never replaces an existing file: the final step is a
    // no-replace rename, so a file another process put at `path` meanwhile wins. Then the Error
    // has kind "exists" and nothing was changed. The temp file is "<name>.XXXXXX.tmp" in the
    // same directory (watchers ignore *.tmp) and is removed on every failure.
    static Error writeNew(const QString& path, const QByteArray& data);
};

} // namespace gd
