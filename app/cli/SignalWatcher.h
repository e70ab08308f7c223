#pragma once

#include <QObject>

class QSocketNotifier;

// Turns SIGINT/SIGTERM into a Qt signal on the main thread (self-pipe), so Ctrl-C can cancel a
// run cleanly: the handler itself only writes one byte.
class SignalWatcher : public QObject
{
    Q_OBJECT
public:
    explicit SignalWatcher(QObject* parent = nullptr);
    ~SignalWatcher() override;

Q_SIGNALS:
    void interrupted(int count);

private:
    QSocketNotifier* m_notifier = nullptr;
    int m_count = 0;
};
