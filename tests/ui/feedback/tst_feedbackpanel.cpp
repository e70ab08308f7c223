#include "RunHarness.h"

#include "feedback/FeedbackPanel.h"
#include "feedback/StarRating.h"
#include "store/Database.h"
#include "store/FeedbackService.h"

#include <QFile>
#include <QJsonDocument>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>

using gd::ui::FeedbackPanel;
using gd::ui::StarRating;

namespace {

template <typename T> T* child(QWidget* parent, const char* name)
{
    T* w = parent->findChild<T*>(QLatin1String(name));
    if (!w)
        qFatal("no child %s", name);
    return w;
}

QJsonArray feedbackOf(const QString& runDir)
{
    QFile f(QDir(runDir).filePath(QStringLiteral("artifact-metadata.json")));
    f.open(QIODevice::ReadOnly);
    return QJsonDocument::fromJson(f.readAll()).object().value(QStringLiteral("Feedback")).toArray();
}

} // namespace

// Rating a scene of a real sandbox run through the feedback panel's widgets.
class TestFeedbackPanel : public QObject
{
    Q_OBJECT
    RunHarness m_harness;
    QString m_db;
    QString m_runDir;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_harness.startServer());
        m_db = m_harness.root.filePath(QStringLiteral("history.sqlite"));
        const RunOutcome o = m_harness.run(makeStory(2, 4), testPolicy(), QStringLiteral("sandbox"), {}, 60000, {},
                                           [this](gd::pipeline::RunOptions& opt) { opt.historyDatabase = m_db; });
        QCOMPARE(o.exitCode, 0);
        m_runDir = o.runDir;
    }

    void rateWithMouseAndKeyboard()
    {
        FeedbackPanel panel(m_db);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        auto* stars = child<StarRating>(&panel, "stars");
        auto* coherence = child<StarRating>(&panel, "coherence");
        auto* save = child<QPushButton>(&panel, "saveButton");
        auto* state = child<QLabel>(&panel, "saveState");
        QVERIFY(!stars->isEnabled()); // nothing selected yet

        QSignalSpy refreshed(&panel, &FeedbackPanel::aggregatesRefreshed);
        panel.showScene(m_runDir, QStringLiteral("scene-002"));
        QTRY_VERIFY(refreshed.size() >= 1);
        QVERIFY(panel.aggregateLines().join(QLatin1Char('\n')).contains(QStringLiteral("No ratings yet")));
        QVERIFY(!save->isEnabled()); // no stars yet

        QTest::mouseClick(stars, Qt::LeftButton, {}, stars->starRect(4).center());
        QCOMPARE(stars->value(), 4);
        QVERIFY(stars->accessibleDescription().contains(QStringLiteral("4 of 5")));
        coherence->setFocus();
        QTest::keyClick(coherence, Qt::Key_3);
        QCOMPARE(coherence->value(), 3);
        QTest::keyClick(coherence, Qt::Key_Left);
        QCOMPARE(coherence->value(), 2);
        QTest::keyClick(coherence, Qt::Key_Right);
        QCOMPARE(coherence->value(), 3);
        QTest::keyClicks(child<QPlainTextEdit>(&panel, "comment"), QStringLiteral("keeps the fog"));
        QVERIFY(save->isEnabled());

        QSignalSpy saved(&panel, &FeedbackPanel::ratingSaved);
        refreshed.clear();
        QTest::mouseClick(save, Qt::LeftButton);
        QTRY_COMPARE(saved.size(), 1);
        QCOMPARE(state->property("state").toString(), QStringLiteral("saved"));
        QVERIFY(state->text().contains(QStringLiteral("Saved 4")));
        QTRY_VERIFY(refreshed.size() >= 1);
        const QString aggregates = panel.aggregateLines().join(QLatin1Char('\n'));
        QVERIFY2(aggregates.contains(QStringLiteral("4.0") + QChar(0x2605) + QStringLiteral(" (n=1)")),
                 qPrintable(aggregates));
        QVERIFY(child<QLabel>(&panel, "previousRatings")->text().contains(QStringLiteral("keeps the fog")));

        // In the database (a fresh connection) ...
        gd::store::Database db;
        QVERIFY(db.open(m_db).isNull());
        QVector<gd::store::Rating> ratings;
        QVERIFY(gd::store::FeedbackService(db).ratingsOf(m_runDir, ratings).isNull());
        QCOMPARE(ratings.size(), 1);
        QCOMPARE(ratings.at(0).sceneId, QStringLiteral("scene-002"));
        QCOMPARE(ratings.at(0).stars, 4);
        QCOMPARE(ratings.at(0).coherence, std::optional<int>(3));
        QCOMPARE(ratings.at(0).comment, QStringLiteral("keeps the fog"));
        // ... and in the run's artifact.
        const QJsonArray feedback = feedbackOf(m_runDir);
        QCOMPARE(feedback.size(), 1);
        QCOMPARE(feedback.at(0).toObject().value(QStringLiteral("SceneId")).toString(), QStringLiteral("scene-002"));
        QCOMPARE(feedback.at(0).toObject().value(QStringLiteral("Stars")).toInt(), 4);

        // A second rating moves the aggregate.
        stars->setFocus();
        QTest::keyClick(stars, Qt::Key_2);
        coherence->setFocus();
        QTest::keyClick(coherence, Qt::Key_0); // optional score cleared
        QCOMPARE(coherence->value(), 0);
        QTest::mouseClick(save, Qt::LeftButton);
        QTRY_COMPARE(saved.size(), 2);
        QTRY_VERIFY(panel.aggregateLines().join(QLatin1Char('\n')).contains(QStringLiteral("(n=2)")));
        QVERIFY(panel.aggregateLines().join(QLatin1Char('\n')).contains(QStringLiteral("3.0") + QChar(0x2605)));
        QCOMPARE(feedbackOf(m_runDir).size(), 2);
        QVERIFY(feedbackOf(m_runDir).at(1).toObject().value(QStringLiteral("Coherence")).isNull());
    }

    void saveErrorIsShown()
    {
        FeedbackPanel panel(m_db);
        panel.show();
        panel.showScene(m_runDir, QStringLiteral("scene-404"));
        auto* stars = child<StarRating>(&panel, "stars");
        QTest::mouseClick(stars, Qt::LeftButton, {}, stars->starRect(5).center());
        QSignalSpy failed(&panel, &FeedbackPanel::saveFailed);
        QTest::mouseClick(child<QPushButton>(&panel, "saveButton"), Qt::LeftButton);
        QTRY_COMPARE(failed.size(), 1);
        auto* state = child<QLabel>(&panel, "saveState");
        QCOMPARE(state->property("state").toString(), QStringLiteral("error"));
        QVERIFY2(state->text().contains(QStringLiteral("scene-404")), qPrintable(state->text()));
        QVERIFY(child<QPushButton>(&panel, "saveButton")->isEnabled()); // the operator can try again
    }
};

QTEST_MAIN(TestFeedbackPanel)
#include "tst_feedbackpanel.moc"
