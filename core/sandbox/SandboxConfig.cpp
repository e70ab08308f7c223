#include "sandbox/SandboxConfig.h"

#include <QDir>
#include <QFileInfo>

namespace gd::sandbox {

SandboxConfig SandboxConfig::resolved() const
{
    SandboxConfig c = *this;
    c.outputDir = QDir::cleanPath(
        QFileInfo(outputDir.isEmpty() ? QStringLiteral("output") : outputDir).absoluteFilePath());
    const QString parent = QFileInfo(c.outputDir).absolutePath();
    c.inputDir = QDir::cleanPath(inputDir.isEmpty() ? parent + QStringLiteral("/input")
                                                    : QFileInfo(inputDir).absoluteFilePath());
    c.tempDir = QDir::cleanPath(tempDir.isEmpty() ? parent + QStringLiteral("/temp")
                                                  : QFileInfo(tempDir).absoluteFilePath());
    if (!c.frameSize.isValid() || c.frameSize.width() < 16 || c.frameSize.height() < 16)
        c.frameSize = QSize(320, 180);
    c.maxFrames = qMax(1, c.maxFrames);
    c.stepDelayMs = qMax(0, c.stepDelayMs);
    c.nodeDelayMs = qMax(0, c.nodeDelayMs);
    c.historyWriteDelayMs = qMax(0, c.historyWriteDelayMs);
    return c;
}

} // namespace gd::sandbox
