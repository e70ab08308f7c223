#include "RunHarness.h"

#include "pipeline/SceneTableModel.h"
#include "watcher/FlipBookPlayer.h"
#include "watcher/QueuePolicyCard.h"
#include "watcher/SceneWatcherPanel.h"

#include <QComboBox>
#include <QDesktopServices>
#include <QDialog>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTest>

using gd::pipeline::RunController;
using gd::pipeline::SceneTableModel;
using gd::ui::SceneWatcherPanel;

namespace {

QString statusOf(const SceneTableModel* m, int row)
{
    return m->index(row, 0).data(SceneTableModel::StatusNameRole).toString();
}

QString validationErrors(const QString& runDir)
{
    const auto v = gd::telemetry::RunValidator::validate(runDir);
    return v.exitCode == 0 ? QString() : v.errors.join(QLatin1Char('\n'));
}

template <typename T> T* child(QWidget* parent, const char* name)
{
    T* w = parent->findChild<T*>(QLatin1String(name));
    if (!w)
        qFatal("no child %s", name);
    return w;
}

// Receives what the panel's "Open folder" hands to QDesktopServices.
class UrlRecorder : public QObject
{
    Q_OBJECT
public:
    QList<QUrl> urls;
public Q_SLOTS:
    void open(const QUrl& url) { urls << url; }
};

} // namespace

// The scene watcher driven by a real sandbox run, as an operator uses it.
class TestSceneWatcherPanel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void rowsReachDoneWithFramesAndFullProgress()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        SceneWatcherPanel panel;
        panel.resize(1300, 600);
        panel.show();
        const SceneTableModel* model = panel.model();
        double maxPartial = 0; // a progress value seen strictly between 0 and 1: ComfyUI progress drove it
        QObject::connect(model, &SceneTableModel::dataChanged, [&](const QModelIndex& tl, const QModelIndex&) {
            const double p = model->index(tl.row(), 0).data(SceneTableModel::ProgressRole).toDouble();
            if (p > 0 && p < 1)
                maxPartial = std::max(maxPartial, p);
        });
        QStringList statuses;
        QObject::connect(model, &SceneTableModel::dataChanged, [&](const QModelIndex& tl, const QModelIndex&) {
            const QString s = statusOf(model, tl.row());
            if (statuses.isEmpty() || statuses.last() != s)
                statuses << s;
        });
        const RunOutcome o = h.run(makeStory(3, 6), testPolicy(), QStringLiteral("sandbox"), {}, 60000,
                                   [&](RunController* c) {
                                       panel.attach(c);
                                       QVERIFY(!child<QPushButton>(&panel, "startButton")->isEnabled());
                                       QVERIFY(child<QPushButton>(&panel, "pauseButton")->isEnabled());
                                   });
        QCOMPARE(o.exitCode, 0);
        QCOMPARE(model->rowCount(), 3);
        QVERIFY(maxPartial > 0);
        for (const QString& s : {QStringLiteral("submitted"), QStringLiteral("running"), QStringLiteral("collecting"),
                                 QStringLiteral("done")})
            QVERIFY2(statuses.contains(s), qPrintable(statuses.join(QLatin1Char(','))));
        for (int row = 0; row < 3; ++row) {
            const QModelIndex i = model->index(row, 0);
            QCOMPARE(statusOf(model, row), QStringLiteral("done"));
            QVERIFY(i.data(SceneTableModel::FrameCountRole).toInt() >= i.data(SceneTableModel::FrameFloorRole).toInt());
            QCOMPARE(model->index(row, SceneTableModel::FramesColumn).data().toString(), QStringLiteral("6 / 6"));
            QCOMPARE(i.data(SceneTableModel::ProgressRole).toDouble(), 1.0);
            QCOMPARE(model->index(row, SceneTableModel::ProgressColumn).data().toString(), QStringLiteral("100 %"));
            QCOMPARE(i.data(SceneTableModel::AttemptRole).toInt(), 1);
            QCOMPARE(i.data(SceneTableModel::ExitReasonRole).toString(), QStringLiteral("success"));
            QCOMPARE(i.data(SceneTableModel::DoneMarkerRole).toString(), QStringLiteral("producer"));
            QVERIFY(QFile::exists(i.data(SceneTableModel::LatestFrameRole).toString()));
            // Every badge explains itself.
            for (int column : {int(SceneTableModel::ExitReasonColumn), int(SceneTableModel::DoneMarkerColumn),
                               int(SceneTableModel::ForcedCopyColumn), int(SceneTableModel::VramColumn)})
                QVERIFY(model->index(row, column).data(Qt::ToolTipRole).toString().size() > 30);
        }
        QVERIFY(!model->index(0, 0).data(SceneTableModel::DurationRole).isNull());
        QVERIFY(child<QPushButton>(&panel, "startButton")->isEnabled());
        QVERIFY(!child<QPushButton>(&panel, "cancelAllButton")->isEnabled());

        // Selecting a scene announces it and loads its frames into the flip-book.
        QSignalSpy selected(&panel, &SceneWatcherPanel::sceneSelected);
        auto* table = child<QTableView>(&panel, "sceneTable");
        QTest::mouseClick(table->viewport(), Qt::LeftButton, {},
                          table->visualRect(model->index(1, SceneTableModel::SceneColumn)).center());
        QCOMPARE(selected.size(), 1);
        QCOMPARE(selected.at(0).at(0).toString(), o.runDir);
        QCOMPARE(selected.at(0).at(1).toString(), QStringLiteral("scene-002"));
        auto* flipBook = child<gd::ui::FlipBookPlayer>(&panel, "flipBook");
        QTRY_COMPARE(flipBook->loadedCount(), 6);
        QTest::mouseClick(child<QWidget>(&panel, "flipBookPlay"), Qt::LeftButton);
        QVERIFY(flipBook->isPlaying());
        QTRY_VERIFY(flipBook->currentFrame() >= 2);
        QTest::mouseClick(child<QWidget>(&panel, "flipBookPlay"), Qt::LeftButton);
        QVERIFY(!flipBook->isPlaying());

        // Telemetry JSON in a read-only dialog.
        QTest::mouseClick(child<QPushButton>(&panel, "telemetryButton"), Qt::LeftButton);
        auto* json = panel.findChild<QPlainTextEdit*>(QStringLiteral("telemetryJson"));
        QVERIFY(json);
        QVERIFY(json->isReadOnly());
        QVERIFY(json->toPlainText().contains(QStringLiteral("\"HistoryExitReason\": \"success\"")));
        json->window()->close();

        // Open folder goes to the desktop's file manager with the scene's folder.
        UrlRecorder recorder;
        QDesktopServices::setUrlHandler(QStringLiteral("file"), &recorder, "open");
        QTest::mouseClick(child<QPushButton>(&panel, "openFolderButton"), Qt::LeftButton);
        QDesktopServices::unsetUrlHandler(QStringLiteral("file"));
        QCOMPARE(recorder.urls.size(), 1);
        QCOMPARE(recorder.urls.first().toLocalFile(), QDir(o.runDir).filePath(QStringLiteral("scene-002")));
    }

    void cancelOneSceneFromThePanel()
    {
        RunHarness h;
        h.config.stepDelayMs = 60;
        QVERIFY(h.startServer());
        SceneWatcherPanel panel;
        panel.resize(1300, 600);
        panel.show();
        auto* table = child<QTableView>(&panel, "sceneTable");
        auto* cancelButton = child<QPushButton>(&panel, "cancelSceneButton");
        bool clicked = false;
        const RunOutcome o = h.run(
            makeStory(3, 4), testPolicy(), QStringLiteral("sandbox"), {}, 60000, [&](RunController* c) {
                panel.attach(c);
                QObject::connect(panel.model(), &SceneTableModel::dataChanged, &panel, [&] {
                    const SceneTableModel* m = panel.model();
                    if (clicked || m->rowCount() < 3 || statusOf(m, 1) != QLatin1String("running"))
                        return;
                    clicked = true;
                    QTest::mouseClick(table->viewport(), Qt::LeftButton, {},
                                      table->visualRect(m->index(1, SceneTableModel::SceneColumn)).center());
                    QVERIFY(cancelButton->isEnabled());
                    QTest::mouseClick(cancelButton, Qt::LeftButton);
                });
            });
        QVERIFY(clicked);
        QCOMPARE(o.exitCode, 1);
        const SceneTableModel* m = panel.model();
        QCOMPARE(statusOf(m, 0), QStringLiteral("done"));
        QCOMPARE(statusOf(m, 1), QStringLiteral("cancelled"));
        QCOMPARE(statusOf(m, 2), QStringLiteral("done"));
        QVERIFY(m->index(1, 0).data(SceneTableModel::ErrorsRole).toStringList().contains(
            QStringLiteral("Cancelled by the operator")));
        QVERIFY2(validationErrors(o.runDir).isEmpty(), qPrintable(validationErrors(o.runDir)));
    }

    void pauseQueueHoldsTheNextScene()
    {
        RunHarness h;
        QVERIFY(h.startServer());
        SceneWatcherPanel panel;
        panel.show();
        auto* pause = child<QPushButton>(&panel, "pauseButton");
        auto* banner = child<QLabel>(&panel, "pausedBanner");
        bool pausedClicked = false;
        bool heldChecked = false;
        const RunOutcome o = h.run(
            makeStory(2, 4), testPolicy(), QStringLiteral("sandbox"), {}, 60000, [&](RunController* c) {
                panel.attach(c);
                QObject::connect(c, &RunController::attemptStarted, &panel, [&](const QString& id) {
                    if (id == QLatin1String("scene-001") && !pausedClicked) {
                        pausedClicked = true;
                        QTest::mouseClick(pause, Qt::LeftButton);
                        QVERIFY(banner->isVisible());
                    }
                });
                QObject::connect(c, &RunController::sceneFinished, &panel, [&](const gd::telemetry::SceneRecord& s) {
                    if (s.sceneId != QLatin1String("scene-001"))
                        return;
                    QTimer::singleShot(1200, &panel, [&] {
                        // The next scene is still queued, and the operator is told why.
                        QCOMPARE(statusOf(panel.model(), 1), QStringLiteral("queued"));
                        QVERIFY(child<QLabel>(&panel, "statusLabel")->text().contains(QStringLiteral("paused")));
                        heldChecked = true;
                        QTest::mouseClick(pause, Qt::LeftButton); // resume
                        QVERIFY(!banner->isVisible());
                    });
                });
            });
        QVERIFY(pausedClicked);
        QVERIFY(heldChecked);
        QCOMPARE(o.exitCode, 0);
        QCOMPARE(statusOf(panel.model(), 1), QStringLiteral("done"));
    }

    void cancelAllAsksFirst()
    {
        RunHarness h;
        h.config.stepDelayMs = 60;
        QVERIFY(h.startServer());
        SceneWatcherPanel panel;
        panel.show();
        bool asked = false;
        const RunOutcome o = h.run(
            makeStory(3, 4), testPolicy(), QStringLiteral("sandbox"), {}, 60000, [&](RunController* c) {
                panel.attach(c);
                QObject::connect(c, &RunController::sceneState, &panel, [&](const QString&, const QString& state) {
                    if (asked || state != QLatin1String("running"))
                        return;
                    asked = true;
                    QTest::mouseClick(child<QPushButton>(&panel, "cancelAllButton"), Qt::LeftButton);
                    auto* box = panel.findChild<QMessageBox*>(QStringLiteral("cancelAllConfirm"));
                    QVERIFY(box);
                    QTest::mouseClick(box->button(QMessageBox::Yes), Qt::LeftButton);
                });
            });
        QVERIFY(asked);
        QCOMPARE(o.exitCode, 130);
        for (int row = 0; row < 3; ++row)
            QCOMPARE(statusOf(panel.model(), row), QStringLiteral("cancelled"));
        QVERIFY2(validationErrors(o.runDir).isEmpty(), qPrintable(validationErrors(o.runDir)));
    }

    void presetSwitchShowsItsKnobsAndStartAsks()
    {
        SceneWatcherPanel panel;
        panel.show();
        auto* combo = child<QComboBox>(&panel, "presetCombo");
        auto* card = child<gd::ui::QueuePolicyCard>(&panel, "queuePolicyCard");
        QCOMPARE(panel.selectedPolicy().presetName, QStringLiteral("Standard"));
        QCOMPARE(card->valueOf(QStringLiteral("History max wait")), QStringLiteral("600 s"));
        combo->setFocus();
        QTest::keyClick(combo, Qt::Key_Down);
        QCOMPARE(panel.selectedPolicy().presetName, QStringLiteral("FastIteration"));
        QVERIFY(card->title().contains(QStringLiteral("FastIteration")));
        QCOMPARE(card->valueOf(QStringLiteral("History max wait")), QStringLiteral("30 s"));
        QCOMPARE(card->valueOf(QStringLiteral("Done-marker wait")), QStringLiteral("15 s"));
        QSignalSpy start(&panel, &SceneWatcherPanel::startRequested);
        QTest::mouseClick(child<QPushButton>(&panel, "startButton"), Qt::LeftButton);
        QCOMPARE(start.size(), 1);
    }

    void vramBadgeLevels_data()
    {
        QTest::addColumn<QVariant>("delta");
        QTest::addColumn<int>("level");
        using L = SceneTableModel::BadgeLevel;
        QTest::newRow("unmeasured") << QVariant() << int(L::Unknown);
        QTest::newRow("small") << QVariant(-850.0) << int(L::Good);
        QTest::newRow("large") << QVariant(-12000.0) << int(L::Notice);
        QTest::newRow("over limit") << QVariant(-18500.0) << int(L::Bad);
        QTest::newRow("freed over limit") << QVariant(19000.0) << int(L::Bad);
    }
    void vramBadgeLevels()
    {
        QFETCH(QVariant, delta);
        QFETCH(int, level);
        const auto d = delta.isNull() ? std::nullopt : std::optional<double>(delta.toDouble());
        QCOMPARE(int(SceneTableModel::vramLevel(d)), level);
    }
};

QTEST_MAIN(TestSceneWatcherPanel)
#include "tst_scenewatcherpanel.moc"
