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
    static Error write(const QString& path, const QByteArray& data);
};

} // namespace gd
