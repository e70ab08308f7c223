#pragma once

#include <QString>

namespace gd {

// Confines names that come from servers (ComfyUI filename/subfolder) to a root directory.
class SafePath
{
public:
    // True when a server-supplied filename is a bare name: not empty, no '/', '\\', no "..",
    // no drive letter, no NUL or control characters.
    static bool isSafeFileName(const QString& name);
    // True when a server-supplied subfolder is relative and never climbs out ("a/b" ok, "../x",
    // "/abs", "C:\\x", "a/../../b" refused). Empty means the root itself.
    static bool isSafeSubfolder(const QString& subfolder);
    // root/subfolder/filename when both parts are safe, else an empty string.
    static QString join(const QString& root, const QString& subfolder, const QString& filename);
};

} // namespace gd
