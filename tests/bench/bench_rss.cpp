// Peak and sampled RSS of `gemdirect run` over 100 scenes x 25 frames against a separate sandbox
// server process (so the figures are the client's alone).
//   bench_rss [scenes=100] [frames=25]

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QThread>
#include <cstdio>

namespace {
long statusKb(qint64 pid, const char* key)
{
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray& line : f.readAll().split('\n'))
        if (line.startsWith(key))
            return line.mid(int(strlen(key))).trimmed().split(' ').first().toLong();
    return -1;
}
} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const int scenes = argc > 1 ? std::atoi(argv[1]) : 100;
    const int frames = argc > 2 ? std::atoi(argv[2]) : 25;
    QTemporaryDir dir;
    QJsonArray arr;
    for (int i = 1; i <= scenes; ++i)
        arr.append(
            QJsonObject{{QStringLiteral("id"), QStringLiteral("scene-%1").arg(i, 3, 10, QLatin1Char('0'))},
                        {QStringLiteral("prompt"), QStringLiteral("benchmark scene %1").arg(i)},
                        {QStringLiteral("expectedFrames"), frames}});
    const QString story = dir.filePath(QStringLiteral("story.json"));
    QFile sf(story);
    sf.open(QIODevice::WriteOnly);
    sf.write(QJsonDocument(QJsonObject{{QStringLiteral("storyId"), QStringLiteral("bench")},
                                       {QStringLiteral("logline"), QStringLiteral("RSS benchmark")},
                                       {QStringLiteral("scenes"), arr}})
                 .toJson());
    sf.close();
    quint16 port;
    {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        port = probe.serverPort();
    }
    const QString output = dir.filePath(QStringLiteral("comfy-output"));
    QProcess server;
    server.start(QStringLiteral(GD_CLI_PATH),
                 {QStringLiteral("sandbox"), QStringLiteral("comfyui"), QStringLiteral("--port"),
                  QString::number(port), QStringLiteral("--output-dir"), output,
                  QStringLiteral("--step-delay-ms"), QStringLiteral("2")});
    server.waitForReadyRead(10000);
    QProcess client;
    client.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    client.start(QStringLiteral(GD_CLI_PATH),
                 {QStringLiteral("run"), QStringLiteral("--story"), story, QStringLiteral("--comfy-url"),
                  QStringLiteral("http://127.0.0.1:%1").arg(port), QStringLiteral("--comfy-output-dir"),
                  output, QStringLiteral("--workflow"), QStringLiteral("sandbox"),
                  QStringLiteral("--runs-root"), dir.filePath(QStringLiteral("runs")),
                  QStringLiteral("--quiet")});
    client.waitForStarted();
    const qint64 pid = client.processId();
    QElapsedTimer t;
    t.start();
    QVector<long> samples;
    long hwm = 0;
    while (!client.waitForFinished(500)) {
        const long rss = statusKb(pid, "VmRSS:");
        const long peak = statusKb(pid, "VmHWM:");
        if (rss > 0)
            samples << rss;
        if (peak > hwm)
            hwm = peak;
        client.readAllStandardOutput();
    }
    server.kill();
    server.waitForFinished();
    std::printf("%d scenes x %d frames: exit %d in %.1f s\n", scenes, frames, client.exitCode(),
                t.elapsed() / 1000.0);
    if (samples.isEmpty())
        return 1;
    const int n = int(samples.size());
    auto avg = [&](int from, int to) {
        double s = 0;
        for (int i = from; i < to; ++i)
            s += samples[i];
        return s / std::max(1, to - from) / 1024.0;
    };
    std::printf("peak RSS (VmHWM): %.1f MB\n", hwm / 1024.0);
    std::printf("RSS first quarter avg %.1f MB, last quarter avg %.1f MB (samples every 0.5 s: %d)\n",
                avg(0, n / 4), avg(3 * n / 4, n), n);
    return client.exitCode();
}
