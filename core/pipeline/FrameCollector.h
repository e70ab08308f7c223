#pragma once

#include <QStringList>

namespace gd::pipeline {

// Moves one attempt's output files into attempt-<n>/ and checks them; pure file work, run it on
// a worker thread. Same filesystem: hard links (no bytes copied); otherwise a kernel-side copy.
// Every frame is verified (FrameVerifier); bad ones are removed with a warning. A failing copy
// (e.g. a full disk) stops the collection with an error naming the file and the OS reason.
class FrameCollector
{
public:
    struct Request
    {
        QString attemptDir;
        QStringList localFiles;      // absolute paths of the attempt's files
        bool alreadyInPlace = false; // files were downloaded into attemptDir: only verify
    };
    struct Result
    {
        QStringList frames;      // file names inside attemptDir, sorted
        QString videoFile;       // file name of the video output, if any
        int videoFrameCount = 0; // read from the container (VideoProbe)
        QString videoError;      // why the video does not count (e.g. under 10 KB: failed encode)
        QStringList warnings;
        QStringList errors;
        int hardLinked = 0;
        int copied = 0;
    };
    static Result collectLocal(const Request& request);
    // Hard link when possible, else copy. Returns an empty string or the reason it failed.
    static QString linkOrCopy(const QString& from, const QString& to, bool* linked);
};

} // namespace gd::pipeline
