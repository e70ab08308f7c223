#pragma once

#include "common/SafePath.h"

#include <QByteArray>
#include <QString>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

// Helpers shared by the libFuzzer targets: the input as Qt bytes without a copy, and a failed
// property check that libFuzzer records as a crash (with the input saved as an artifact).
namespace gd::fuzz {

inline QByteArray bytesOf(const uint8_t* data, size_t size)
{
    return QByteArray::fromRawData(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
}

inline void require(bool condition, const char* what)
{
    if (condition)
        return;
    std::fprintf(stderr, "fuzz property violated: %s\n", what);
    std::abort();
}

// What the collectors do with every file name a server reports: a name SafePath accepts must land
// inside the output root after joining; a refused one yields no path at all.
inline void requireConfined(const QString& subfolder, const QString& filename)
{
    const QString root = QStringLiteral("/srv/out");
    const QString path = gd::SafePath::join(root, subfolder, filename);
    if (gd::SafePath::isSafeFileName(filename) && gd::SafePath::isSafeSubfolder(subfolder))
        require(path.startsWith(root + QLatin1Char('/')) && path.size() > root.size() + 1,
                "a name SafePath accepted leaves the output root");
    else
        require(path.isEmpty(), "SafePath::join built a path from a refused name");
}

} // namespace gd::fuzz
