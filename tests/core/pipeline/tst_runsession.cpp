// The desktop app's start of a run: a story whose scene images are missing is refused before
// anything is queued, every missing file named in `gemdirect run`'s words; a story whose images are
// all there starts.

#include "pipeline/RunSession.h"
#include "pipeline/Settings.h"
#include "story/StoryLoader.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QtTest>

using namespace gd;

namespace {

// Two scenes: scene-001 names start_image and end_image, scene-002 start_image.
story::Story storyWithImages(const QStringList& files)
{
    QJsonArray scenes;
    for (int i = 0; i < 2; ++i) {
        QJsonObject images{{QStringLiteral("start_image"), files.at(i == 0 ? 0 : 2)}};
        if (i == 0)
            images.insert(QStringLiteral("end_image"), files.at(1));
        scenes.append(QJsonObject{{QStringLiteral("id"), QStringLiteral("scene-00%1").arg(i + 1)},
                                  {QStringLiteral("title"), QStringLiteral("Part %1").arg(i + 1)},
                                  {QStringLiteral("prompt"), QStringLiteral("a lighthouse at night")},
                                  {QStringLiteral("images"), images}});
    }
    QStringList problems;
    const auto story = story::StoryLoader::fromObject(
        QJsonObject{{QStringLiteral("storyId"), QStringLiteral("images")},
                    {QStringLiteral("logline"), QStringLiteral("A keeper and a storm.")},
                    {QStringLiteral("scenes"), scenes}},
        &problems);
    if (!story)
        qFatal("test story rejected: %s", qPrintable(problems.join(QStringLiteral("; "))));
    return *story;
}

} // namespace

class TstRunSession : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void missingImagesAreRefused_data()
    {
        QTest::addColumn<QStringList>("present"); // of a.png, b.png, c.png
        QTest::addColumn<QStringList>("named");   // the problems the error must name, in order
        QTest::newRow("one missing") << QStringList{QStringLiteral("a.png"), QStringLiteral("c.png")}
                                     << QStringList{QStringLiteral(
                                            "scenes[0].images.end_image: 'b.png' does not exist in ")};
        QTest::newRow("two missing")
            << QStringList{QStringLiteral("b.png")}
            << QStringList{QStringLiteral("scenes[0].images.start_image: 'a.png' does not exist in "),
                           QStringLiteral("scenes[1].images.start_image: 'c.png' does not exist in ")};
        QTest::newRow("all there") << QStringList{QStringLiteral("a.png"), QStringLiteral("b.png"),
                                                  QStringLiteral("c.png")}
                                   << QStringList{};
    }

    void missingImagesAreRefused()
    {
        QFETCH(QStringList, present);
        QFETCH(QStringList, named);
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        for (const QString& name : present) {
            QFile f(tmp.filePath(name));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("\x89PNG\r\n\x1a\n");
        }
        const QString storyPath = tmp.filePath(QStringLiteral("story.json"));
        // A port nothing listens on: a run that does start is cancelled before it connects.
        QTcpServer closed;
        QVERIFY(closed.listen(QHostAddress::LocalHost, 0));
        const quint16 port = closed.serverPort();
        closed.close();
        pipeline::Settings settings(tmp.filePath(QStringLiteral("studio.ini")));
        QVERIFY(
            settings.set(pipeline::Settings::Key::ComfyUrl, QStringLiteral("http://127.0.0.1:%1").arg(port))
                .isNull());
        QVERIFY(
            settings.set(pipeline::Settings::Key::RunsRoot, tmp.filePath(QStringLiteral("runs"))).isNull());
        QVERIFY(settings.set(pipeline::Settings::Key::HistoryDb, tmp.filePath(QStringLiteral("history.db")))
                    .isNull());
        pipeline::RunSession session(settings, nullptr);
        QSignalSpy started(&session, &pipeline::RunSession::runStarted);
        QSignalSpy finished(&session, &pipeline::RunSession::runFinished);
        QString error;
        const bool ok = session.start(
            storyWithImages({QStringLiteral("a.png"), QStringLiteral("b.png"), QStringLiteral("c.png")}),
            storyPath, pipeline::QueuePolicy::fastIteration(), &error);
        if (named.isEmpty()) {
            QVERIFY2(ok, qPrintable(error));
            QCOMPARE(started.count(), 1);
            session.cancel();
            QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
            return;
        }
        QVERIFY(!ok);
        QCOMPARE(started.count(), 0);
        QVERIFY(!session.isRunning());
        const QStringList lines = error.split(QLatin1Char('\n'));
        QCOMPARE(lines.size(), named.size() + 1);
        for (int i = 0; i < named.size(); ++i)
            QCOMPARE(lines.at(i), QStringLiteral("story %1: ").arg(storyPath) + named.at(i) +
                                      QDir(tmp.path()).absolutePath());
        QCOMPARE(lines.last(), QStringLiteral("Nothing was queued."));
        QVERIFY(!QDir(tmp.filePath(QStringLiteral("runs"))).exists());
    }
};

QTEST_GUILESS_MAIN(TstRunSession)
#include "tst_runsession.moc"
