#include "common/ConnectionIndicators.h"
#include "pipeline/ConnectionMonitor.h"
#include "sandbox/SandboxStandIns.h"

#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>

using gd::pipeline::ConnectionMonitor;
using gd::ui::ConnectionIndicators;

class TestConnectionIndicators : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    static quint16 closedPort()
    {
        QTcpServer s;
        s.listen(QHostAddress::LocalHost, 0);
        return s.serverPort(); // closed again when s goes out of scope
    }

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void greenAgainstTheSandbox()
    {
        gd::sandbox::SandboxStandIns standIns;
        QString error;
        QVERIFY2(standIns.start(m_dir.path(), {}, {}, &error), qPrintable(error));
        ConnectionMonitor monitor;
        gd::pipeline::HealthOptions o;
        o.llmUrl = standIns.llmUrl().toString();
        o.comfyUrl = standIns.comfyUrl();
        o.workflow = QStringLiteral("sandbox");
        o.runsRoot = m_dir.path();
        o.timeoutMs = 8000;
        monitor.setOptions(o);
        ConnectionIndicators indicators(&monitor);
        indicators.show();
        QCOMPARE(indicators.indicator(QStringLiteral("llm"))->property("status").toString(), QStringLiteral("unknown"));
        QSignalSpy updated(&monitor, &ConnectionMonitor::updated);
        QTest::mouseClick(indicators.indicator(QStringLiteral("comfyui")), Qt::LeftButton);
        QVERIFY(updated.wait(20000));
        for (const QString& c : {QStringLiteral("llm"), QStringLiteral("comfyui"), QStringLiteral("gpu")}) {
            QToolButton* b = indicators.indicator(c);
            QVERIFY2(b->property("status").toString() == QLatin1String("ok"), qPrintable(c + QStringLiteral(": ") + b->toolTip()));
        }
        QVERIFY(indicators.indicator(QStringLiteral("comfyui"))->toolTip().contains(QLatin1String("reachable and working")));
        QVERIFY(indicators.findChild<QToolButton*>(QStringLiteral("indicatorGpu")));
    }

    void redWithTheReasonAgainstAClosedPort()
    {
        const quint16 port = closedPort();
        ConnectionMonitor monitor;
        gd::pipeline::HealthOptions o;
        o.llmUrl = QStringLiteral("http://127.0.0.1:%1").arg(port);
        o.comfyUrl = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port));
        o.runsRoot = m_dir.path();
        o.timeoutMs = 5000;
        monitor.setOptions(o);
        ConnectionIndicators indicators(&monitor);
        QSignalSpy updated(&monitor, &ConnectionMonitor::updated);
        monitor.checkNow();
        QVERIFY(updated.wait(20000));
        for (const QString& c : {QStringLiteral("llm"), QStringLiteral("comfyui")}) {
            QToolButton* b = indicators.indicator(c);
            QCOMPARE(b->property("status").toString(), QStringLiteral("down"));
            QVERIFY2(b->toolTip().contains(QLatin1String("not reachable")), qPrintable(b->toolTip()));
            QVERIFY2(b->toolTip().contains(QString::number(port)), qPrintable(b->toolTip()));
        }
        QVERIFY(indicators.indicator(QStringLiteral("comfyui"))->toolTip().contains(QLatin1String("start ComfyUI")));
    }
};

QTEST_MAIN(TestConnectionIndicators)
#include "tst_connectionindicators.moc"
