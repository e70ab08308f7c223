// A whole sandbox run with the done-marker sentinel beside it: a workflow without the
// GemDirectSaveFrames node completes its scenes on the sentinel's markers, the artifact records
// DoneMarkerSource per scene, and the run directory passes the validator.
#include "RunHarness.h"
#include "pipeline/DoneMarkerSentinel.h"
#include "telemetry/ArtifactWriter.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QtTest>

namespace {

QJsonObject readArtifact(const QString& runDir)
{
    QFile f(QDir(runDir).filePath(gd::telemetry::ArtifactWriter::fileName()));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

} // namespace

class TestSentinelRun : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void scenesCompleteOnSentinelMarkers_data()
    {
        QTest::addColumn<bool>("nodeInstalled");
        QTest::addColumn<bool>("sentinelRunning");
        QTest::addColumn<QString>("source"); // expected DoneMarkerSource; empty = null
        QTest::newRow("no node, sentinel") << false << true << QStringLiteral("sentinel");
        QTest::newRow("node, sentinel beside it") << true << true << QStringLiteral("node");
        QTest::newRow("no node, no sentinel") << false << false << QString();
    }
    void scenesCompleteOnSentinelMarkers()
    {
        QFETCH(bool, nodeInstalled);
        QFETCH(bool, sentinelRunning);
        QFETCH(QString, source);

        RunHarness h;
        h.config.markerNodeInstalled = nodeInstalled;
        QString error;
        QVERIFY2(h.startServer(&error), qPrintable(error));
        QVERIFY(QDir().mkpath(h.config.outputDir));

        gd::pipeline::DoneMarkerSentinel::Options so;
        so.outputDirs = {h.config.outputDir};
        // Longer than the sandbox node needs between its last frame and its marker, so where the
        // node is installed its marker is always first.
        so.stableSeconds = 1;
        so.scanIntervalMs = 100;
        gd::pipeline::DoneMarkerSentinel sentinel(so);
        QSignalSpy written(&sentinel, &gd::pipeline::DoneMarkerSentinel::markerWritten);
        if (sentinelRunning)
            QVERIFY(sentinel.start().isNull());

        gd::pipeline::QueuePolicy policy = testPolicy();
        policy.doneMarkerTimeoutSeconds = 15; // the sentinel's window plus scan cadence, with room
        const RunOutcome o =
            h.run(makeStory(2, 4), policy, QStringLiteral("sandbox"), {}, 120000, {},
                  [&](gd::pipeline::RunOptions& opt) { opt.sentinelMarkers = sentinelRunning; });
        sentinel.stop();
        QVERIFY2(o.exitCode == 0, qPrintable(o.message));

        const QJsonObject artifact = readArtifact(o.runDir);
        const QJsonArray scenes = artifact.value(QStringLiteral("Scenes")).toArray();
        QCOMPARE(scenes.size(), 2);
        for (const QJsonValue& v : scenes) {
            const QJsonObject t = v.toObject().value(QStringLiteral("Telemetry")).toObject();
            QVERIFY(t.contains(QStringLiteral("DoneMarkerSource")));
            if (source.isEmpty()) {
                QVERIFY(t.value(QStringLiteral("DoneMarkerSource")).isNull());
                QCOMPARE(t.value(QStringLiteral("DoneMarkerDetected")).toBool(), false);
            } else {
                QCOMPARE(t.value(QStringLiteral("DoneMarkerSource")).toString(), source);
                QCOMPARE(t.value(QStringLiteral("DoneMarkerDetected")).toBool(), true);
                QCOMPARE(t.value(QStringLiteral("ForcedCopyTriggered")).toBool(), false);
            }
            QCOMPARE(v.toObject().value(QStringLiteral("FrameCount")).toInt(), 4);
        }
        // The sentinel marks only what the node did not: two scenes without the node, none with it.
        QCOMPARE(written.size(), sentinelRunning && !nodeInstalled ? 2 : 0);

        const gd::telemetry::ValidationResult v = gd::telemetry::RunValidator::validate(o.runDir);
        QVERIFY2(v.passed(), qPrintable(v.errors.join(QLatin1Char('\n'))));
    }
};

QTEST_GUILESS_MAIN(TestSentinelRun)
#include "tst_sentinelrun.moc"
