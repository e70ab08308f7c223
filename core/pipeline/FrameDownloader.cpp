#include "pipeline/FrameDownloader.h"

#include <QDir>

namespace gd::pipeline {

FrameDownloader::FrameDownloader(comfy::ComfyClient* client, QVector<comfy::OutputFile> files,
                                 QString attemptDir, qint64 maxBytesPerFile, QObject* parent)
    : QObject(parent), m_client(client), m_files(std::move(files)), m_dir(std::move(attemptDir)),
      m_maxBytes(maxBytesPerFile)
{
}

void FrameDownloader::start()
{
    QDir().mkpath(m_dir);
    if (m_files.isEmpty()) {
        Q_EMIT finished({});
        return;
    }
    for (int i = 0; i < kParallel; ++i)
        next();
}

void FrameDownloader::next()
{
    if (m_stopped || m_nextIndex >= m_files.size()) {
        if (m_inFlight == 0 && !m_stopped) {
            m_stopped = true;
            Q_EMIT finished(m_errors);
        }
        return;
    }
    const comfy::OutputFile f = m_files.at(m_nextIndex++);
    const QString dest = QDir(m_dir).filePath(f.filename);
    ++m_inFlight;
    m_client->view(f, dest, m_maxBytes, this, [this, dest, f](const Error& e) {
        --m_inFlight;
        if (e.isNull())
            m_done << dest;
        else
            m_errors << QStringLiteral("Download of %1 failed: %2").arg(f.filename, e.message);
        // A full disk fails every later file too: stop at the first IO error.
        if (e.kind == QLatin1String("io")) {
            m_nextIndex = m_files.size();
        }
        next();
    });
}

} // namespace gd::pipeline
