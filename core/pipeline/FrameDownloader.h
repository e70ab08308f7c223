#pragma once

#include "comfy/ComfyClient.h"

#include <QObject>
#include <QStringList>
#include <QVector>

namespace gd::pipeline {

// Downloads an attempt's output files over GET /view into the attempt directory, a few at a time,
// for servers whose output folder is not on this machine. Emits finished(errors) once.
class FrameDownloader : public QObject
{
    Q_OBJECT
public:
    FrameDownloader(comfy::ComfyClient* client, QVector<comfy::OutputFile> files, QString attemptDir,
                    qint64 maxBytesPerFile, QObject* parent = nullptr);
    void start();
    QStringList downloadedFiles() const { return m_done; }

Q_SIGNALS:
    void finished(const QStringList& errors);

private:
    void next();

    comfy::ComfyClient* m_client;
    QVector<comfy::OutputFile> m_files;
    QString m_dir;
    qint64 m_maxBytes;
    int m_nextIndex = 0;
    int m_inFlight = 0;
    bool m_stopped = false;
    QStringList m_done;
    QStringList m_errors;
    static constexpr int kParallel = 4;
};

} // namespace gd::pipeline
