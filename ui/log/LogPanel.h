#pragma once

#include "common/LogRecord.h"

#include <QVector>
#include <QWidget>
#include <memory>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListView;
class QPushButton;
class QToolButton;

namespace gd::log {
class LogFilterModel;
class LogModel;
class LogSink;
} // namespace gd::log

namespace gd::ui {

// The log dock: the records of a LogSink, coloured by level, with a level filter, a search box, pause
// (hold new lines), follow (keep the newest line in view) and clear. Bounded: it keeps at most the sink's
// capacity of lines, and so does the queue of lines held while paused.
class LogPanel : public QWidget
{
    Q_OBJECT
public:
    explicit LogPanel(QWidget* parent = nullptr);
    ~LogPanel() override;

    // Shows the sink's recent records and follows new ones; keeps the sink alive while attached.
    void attach(std::shared_ptr<log::LogSink> sink);

    int capacity() const;
    // The rows the user sees (after filtering).
    QListView* view() const { return m_view; }

private:
    void append(const QVector<log::LogRecord>& records);
    void setPaused(bool paused);
    void updateHeldLabel();

    std::shared_ptr<log::LogSink> m_sink;
    log::LogModel* m_model;
    log::LogFilterModel* m_filter;
    QListView* m_view;
    QComboBox* m_level;
    QLineEdit* m_search;
    QToolButton* m_pause;
    QCheckBox* m_follow;
    QPushButton* m_clear;
    QLabel* m_held;
    QVector<log::LogRecord> m_heldRecords;
};

} // namespace gd::ui
