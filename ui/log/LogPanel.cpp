#include "log/LogPanel.h"

#include "common/LogFilterModel.h"
#include "common/LogModel.h"
#include "common/LogSink.h"
#include "log/LogLineDelegate.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPushButton>
#include <QScrollBar>
#include <QToolButton>
#include <QVBoxLayout>

namespace gd::ui {

namespace {
constexpr int kDefaultCapacity = 5000;
}

LogPanel::LogPanel(QWidget* parent)
    : QWidget(parent),
      m_model(new log::LogModel(kDefaultCapacity, this)),
      m_filter(new log::LogFilterModel(this)),
      m_view(new QListView(this)),
      m_level(new QComboBox(this)),
      m_search(new QLineEdit(this)),
      m_pause(new QToolButton(this)),
      m_follow(new QCheckBox(QStringLiteral("Follow"), this)),
      m_clear(new QPushButton(QStringLiteral("Clear"), this)),
      m_held(new QLabel(this))
{
    m_filter->setSourceModel(m_model);

    m_level->setObjectName(QStringLiteral("levelFilter"));
    m_level->setToolTip(QStringLiteral("Show lines of this level and above."));
    for (auto level : {log::LogLevel::Trace, log::LogLevel::Debug, log::LogLevel::Info, log::LogLevel::Warning,
                       log::LogLevel::Error})
        m_level->addItem(log::levelName(level) + QStringLiteral(" and above"), int(level));
    m_level->setCurrentIndex(m_level->findData(int(log::LogLevel::Info)));
    m_filter->setMinimumLevel(log::LogLevel::Info);
    connect(m_level, &QComboBox::currentIndexChanged, this,
            [this] { m_filter->setMinimumLevel(log::LogLevel(m_level->currentData().toInt())); });

    m_search->setObjectName(QStringLiteral("searchBox"));
    m_search->setPlaceholderText(QStringLiteral("Search…"));
    m_search->setClearButtonEnabled(true);
    m_search->setToolTip(QStringLiteral("Show only lines containing this text (any case)."));
    connect(m_search, &QLineEdit::textChanged, m_filter, &log::LogFilterModel::setSearchText);

    m_pause->setObjectName(QStringLiteral("pauseButton"));
    m_pause->setText(QStringLiteral("Pause"));
    m_pause->setCheckable(true);
    m_pause->setToolTip(QStringLiteral("Hold new lines so the view stays still; they appear when you resume."));
    connect(m_pause, &QToolButton::toggled, this, &LogPanel::setPaused);

    m_follow->setObjectName(QStringLiteral("followCheck"));
    m_follow->setChecked(true);
    m_follow->setToolTip(QStringLiteral("Keep the newest line in view."));
    connect(m_follow, &QCheckBox::toggled, this, [this](bool on) {
        if (on)
            m_view->scrollToBottom();
    });

    m_clear->setObjectName(QStringLiteral("clearButton"));
    m_clear->setToolTip(QStringLiteral("Remove all lines from this view (the log file keeps them)."));
    connect(m_clear, &QPushButton::clicked, this, [this] {
        m_model->clear();
        m_heldRecords.clear();
        updateHeldLabel();
    });

    m_held->setObjectName(QStringLiteral("heldLabel"));

    m_view->setObjectName(QStringLiteral("logView"));
    m_view->setModel(m_filter);
    m_view->setItemDelegate(new LogLineDelegate(m_view));
    m_view->setUniformItemSizes(true); // thousands of one-line rows: no per-row size queries
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    // Scrolling up to read stops following; scrolling back to the end follows again.
    connect(m_view->verticalScrollBar(), &QScrollBar::valueChanged, this, [this](int value) {
        const QScrollBar* bar = m_view->verticalScrollBar();
        if (bar->isSliderDown())
            m_follow->setChecked(value >= bar->maximum());
    });

    auto* bar = new QHBoxLayout;
    bar->addWidget(m_level);
    bar->addWidget(m_search, 1);
    bar->addWidget(m_pause);
    bar->addWidget(m_follow);
    bar->addWidget(m_clear);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_held);
    updateHeldLabel();
}

LogPanel::~LogPanel() = default;

int LogPanel::capacity() const
{
    return m_model->capacity();
}

void LogPanel::attach(std::shared_ptr<log::LogSink> sink)
{
    if (m_sink)
        disconnect(m_sink.get(), nullptr, this, nullptr);
    m_sink = std::move(sink);
    if (!m_sink)
        return;
    connect(m_sink.get(), &log::LogSink::recordsAppended, this, &LogPanel::append);
    // Records delivered after the snapshot but already in it are skipped by sequence number.
    append(m_sink->snapshot());
}

void LogPanel::append(const QVector<log::LogRecord>& records)
{
    if (m_pause->isChecked()) {
        m_heldRecords += records;
        if (m_heldRecords.size() > m_model->capacity())
            m_heldRecords.remove(0, m_heldRecords.size() - m_model->capacity());
        updateHeldLabel();
        return;
    }
    m_model->append(records);
    if (m_follow->isChecked())
        m_view->scrollToBottom();
}

void LogPanel::setPaused(bool paused)
{
    m_pause->setText(paused ? QStringLiteral("Resume") : QStringLiteral("Pause"));
    if (!paused && !m_heldRecords.isEmpty()) {
        const QVector<log::LogRecord> held = std::exchange(m_heldRecords, {});
        append(held);
    }
    updateHeldLabel();
}

void LogPanel::updateHeldLabel()
{
    m_held->setVisible(m_pause->isChecked());
    m_held->setText(QStringLiteral("Paused: %1 new line(s) held; press Resume to show them.").arg(m_heldRecords.size()));
}

} // namespace gd::ui
