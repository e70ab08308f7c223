#pragma once

// For tests that drive the `gemdirect` CLI (its path in GD_CLI_PATH) against sandbox ComfyUI
// servers living in processes of their own, so that a killed client leaves them running as a real
// ComfyUI would: free ports, plain GETs, story files and the server processes themselves.

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

namespace clitest {

inline QString cli()
{
    return QStringLiteral(GD_CLI_PATH);
}

inline quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

// The JSON object a GET answers; empty on any failure (10 s bound).
inline QJsonObject getJson(const QUrl& url)
{
    QNetworkAccessManager nam;
    QNetworkReply* reply = nam.get(QNetworkRequest(url));
    QSignalSpy done(reply, &QNetworkReply::finished);
    if (!reply->isFinished())
        done.wait(10000);
    const QJsonObject o = QJsonDocument::fromJson(reply->readAll()).object();
    reply->deleteLater();
    return o;
}

// <dir>/story.json with `scenes` scenes scene-001.. of 12 expected frames each; returns its path.
inline QString writeStory(const QString& dir, int scenes, const QString& storyId)
{
    QJsonArray list;
    for (int i = 1; i <= scenes; ++i)
        list.append(
            QJsonObject{{QStringLiteral("id"), QStringLiteral("scene-%1").arg(i, 3, 10, QLatin1Char('0'))},
                        {QStringLiteral("title"), QStringLiteral("Shot %1").arg(i)},
                        {QStringLiteral("prompt"), QStringLiteral("lighthouse in a storm, shot %1").arg(i)},
                        {QStringLiteral("expectedFrames"), 12}});
    const QJsonObject story{{QStringLiteral("storyId"), storyId},
                            {QStringLiteral("title"), QStringLiteral("Resume test")},
                            {QStringLiteral("logline"), QStringLiteral("A keeper outlasts the storm.")},
                            {QStringLiteral("directorsVision"), QStringLiteral("Grey and orange.")},
                            {QStringLiteral("scenes"), list}};
    const QString path = QDir(dir).filePath(QStringLiteral("story.json"));
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write(QJsonDocument(story).toJson());
    return path;
}

// One `gemdirect sandbox comfyui` process on a free port; terminated (then killed) when destroyed.
class SandboxProcess
{
public:
    SandboxProcess() = default;
    SandboxProcess(const SandboxProcess&) = delete;
    SandboxProcess& operator=(const SandboxProcess&) = delete;
    ~SandboxProcess()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.terminate();
        if (!m_process.waitForFinished(5000))
            m_process.kill();
        m_process.waitForFinished(5000);
    }

    // Starts it writing to `outputDir` and waits (20 s bound) until it answers /system_stats.
    bool start(const QString& outputDir, int stepDelayMs)
    {
        m_outputDir = outputDir;
        m_url = QStringLiteral("http://127.0.0.1:%1").arg(freePort());
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        m_process.start(cli(),
                        {QStringLiteral("sandbox"), QStringLiteral("comfyui"), QStringLiteral("--port"),
                         QString::number(QUrl(m_url).port()), QStringLiteral("--output-dir"), outputDir,
                         QStringLiteral("--step-delay-ms"), QString::number(stepDelayMs)});
        if (!m_process.waitForStarted())
            return false;
        return QTest::qWaitFor(
            [this] { return get(QStringLiteral("/system_stats")).contains(QStringLiteral("system")); },
            20000);
    }
    QString url() const { return m_url; }
    QString outputDir() const { return m_outputDir; }
    QJsonObject get(const QString& path) const { return getJson(QUrl(m_url + path)); }

private:
    QProcess m_process;
    QString m_url;
    QString m_outputDir;
};

} // namespace clitest
