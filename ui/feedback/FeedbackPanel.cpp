#include "feedback/FeedbackPanel.h"

#include "feedback/StarRating.h"
#include "store/Database.h"
#include "store/FeedbackService.h"

#include <QComboBox>
#include <QDir>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QShortcut>
#include <QTime>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace gd::ui {

using store::FeedbackGroup;

FeedbackPanel::FeedbackPanel(const QString& databasePath, QWidget* parent)
    : QWidget(parent), m_databasePath(databasePath)
{
    // One thread: jobs (saves, refreshes) run in the order they were asked for.
    m_pool.setMaxThreadCount(1);

    m_sceneLabel = new QLabel(this);
    m_sceneLabel->setObjectName(QStringLiteral("sceneLabel"));
    m_sceneLabel->setWordWrap(true);

    m_stars = new StarRating(this);
    m_stars->setObjectName(QStringLiteral("stars"));
    m_stars->setDescription(QStringLiteral("Overall rating of the scene's frames, 1 (unusable) to 5 (keep as is)"));
    m_coherence = new StarRating(this);
    m_coherence->setObjectName(QStringLiteral("coherence"));
    m_coherence->setClearable(true);
    m_coherence->setDescription(
        QStringLiteral("Optional: how well the frames follow the prompt and the story, 1 to 5"));
    m_comment = new QPlainTextEdit(this);
    m_comment->setObjectName(QStringLiteral("comment"));
    m_comment->setPlaceholderText(QStringLiteral("Comment (optional) — Ctrl+Enter saves"));
    m_comment->setTabChangesFocus(true);
    m_comment->setMaximumHeight(90);
    m_saveButton = new QPushButton(QStringLiteral("Save rating"), this);
    m_saveButton->setObjectName(QStringLiteral("saveButton"));
    m_saveButton->setToolTip(QStringLiteral(
        "Save now: the rating goes into the history database and the run's artifact-metadata.json Feedback[]"));
    m_saveState = new QLabel(this);
    m_saveState->setObjectName(QStringLiteral("saveState"));
    m_saveState->setWordWrap(true);
    m_previousRatings = new QLabel(this);
    m_previousRatings->setObjectName(QStringLiteral("previousRatings"));
    m_previousRatings->setWordWrap(true);
    m_previousRatings->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* starsLabel = new QLabel(QStringLiteral("&Stars:"), this);
    starsLabel->setBuddy(m_stars);
    auto* coherenceLabel = new QLabel(QStringLiteral("C&oherence:"), this);
    coherenceLabel->setBuddy(m_coherence);
    auto* commentLabel = new QLabel(QStringLiteral("Co&mment:"), this);
    commentLabel->setBuddy(m_comment);
    auto* rateBox = new QGroupBox(QStringLiteral("Rate the scene"), this);
    auto* form = new QFormLayout(rateBox);
    form->addRow(m_sceneLabel);
    form->addRow(starsLabel, m_stars);
    form->addRow(coherenceLabel, m_coherence);
    form->addRow(commentLabel, m_comment);
    auto* saveRow = new QHBoxLayout;
    saveRow->addWidget(m_saveButton);
    saveRow->addWidget(m_saveState, 1);
    form->addRow(saveRow);
    form->addRow(m_previousRatings);

    m_groupCombo = new QComboBox(this);
    m_groupCombo->setObjectName(QStringLiteral("groupCombo"));
    m_groupCombo->setToolTip(QStringLiteral("Which run attributes the mean ratings are grouped by"));
    const auto addGroup = [this](const QString& text, FeedbackGroup group) {
        m_groupCombo->addItem(text, static_cast<int>(group));
    };
    addGroup(QStringLiteral("Genre, template and model"),
             FeedbackGroup::Genre | FeedbackGroup::TemplateVersion | FeedbackGroup::Model);
    addGroup(QStringLiteral("Genre"), FeedbackGroup::Genre);
    addGroup(QStringLiteral("Template version"), FeedbackGroup::TemplateVersion);
    addGroup(QStringLiteral("Model"), FeedbackGroup::Model);
    addGroup(QStringLiteral("Workflow"), FeedbackGroup::Workflow);
    addGroup(QStringLiteral("All four"), FeedbackGroup::Genre | FeedbackGroup::TemplateVersion |
                                             FeedbackGroup::Model | FeedbackGroup::Workflow);
    m_aggregates = new QListWidget(this);
    m_aggregates->setObjectName(QStringLiteral("aggregatesList"));
    m_aggregates->setToolTip(QStringLiteral("Mean stars per group over every rated run (n = number of ratings)"));
    auto* aggregateBox = new QGroupBox(QStringLiteral("Ratings so far"), this);
    auto* aggregateLayout = new QVBoxLayout(aggregateBox);
    aggregateLayout->addWidget(m_groupCombo);
    aggregateLayout->addWidget(m_aggregates, 1);

    auto* layout = new QHBoxLayout(this);
    layout->addWidget(rateBox, 3);
    layout->addWidget(aggregateBox, 2);

    connect(m_saveButton, &QPushButton::clicked, this, &FeedbackPanel::save);
    auto* saveShortcut = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), m_comment);
    saveShortcut->setContext(Qt::WidgetShortcut);
    connect(saveShortcut, &QShortcut::activated, this, &FeedbackPanel::save);
    const auto edited = [this] {
        if (!m_saveInFlight && !m_sceneId.isEmpty() && m_stars->value() > 0)
            setSaveState(QStringLiteral("Not saved yet"), QString());
        updateEnabled();
    };
    connect(m_stars, &StarRating::valueChanged, this, edited);
    connect(m_coherence, &StarRating::valueChanged, this, edited);
    connect(m_comment, &QPlainTextEdit::textChanged, this, edited);
    connect(m_groupCombo, &QComboBox::currentIndexChanged, this, &FeedbackPanel::refreshAggregates);

    showScene(QString(), QString());
}

FeedbackPanel::~FeedbackPanel()
{
    m_pool.waitForDone();
}

FeedbackGroup FeedbackPanel::grouping() const
{
    return static_cast<FeedbackGroup>(m_groupCombo->currentData().toInt());
}

QStringList FeedbackPanel::aggregateLines() const
{
    QStringList lines;
    for (int i = 0; i < m_aggregates->count(); ++i)
        lines << m_aggregates->item(i)->text();
    return lines;
}

void FeedbackPanel::showScene(const QString& runDir, const QString& sceneId)
{
    const bool same = runDir == m_runDir && sceneId == m_sceneId;
    m_runDir = runDir;
    m_sceneId = sceneId;
    if (!same) {
        m_stars->setValue(0);
        m_coherence->setValue(0);
        m_comment->clear();
        m_previousRatings->clear();
        if (!m_saveInFlight)
            setSaveState(QString(), QString());
    }
    m_sceneLabel->setText(sceneId.isEmpty()
                              ? QStringLiteral("Select a scene in the scene watcher to rate it.")
                              : QStringLiteral("%1 of run %2").arg(sceneId, QDir(runDir).dirName()));
    updateEnabled();
    refreshAggregates();
}

void FeedbackPanel::updateEnabled()
{
    const bool scene = !m_sceneId.isEmpty();
    m_stars->setEnabled(scene);
    m_coherence->setEnabled(scene);
    m_comment->setEnabled(scene);
    m_saveButton->setEnabled(scene && m_stars->value() > 0 && !m_saveInFlight);
}

void FeedbackPanel::setSaveState(const QString& text, const QString& kind)
{
    m_saveState->setText(text);
    m_saveState->setProperty("state", kind);
    // Status fills carry their own text colour so they read on light and dark palettes alike.
    if (kind == QLatin1String("saved"))
        m_saveState->setStyleSheet(
            QStringLiteral("QLabel { background: #2e7d32; color: white; border-radius: 3px; padding: 2px 6px; }"));
    else if (kind == QLatin1String("error"))
        m_saveState->setStyleSheet(
            QStringLiteral("QLabel { background: #c62828; color: white; border-radius: 3px; padding: 2px 6px; }"));
    else
        m_saveState->setStyleSheet(QString());
}

void FeedbackPanel::save()
{
    if (m_sceneId.isEmpty() || m_stars->value() == 0 || m_saveInFlight)
        return;
    SaveRequest request;
    request.runDir = m_runDir;
    request.sceneId = m_sceneId;
    request.stars = m_stars->value();
    if (m_coherence->value() > 0)
        request.coherence = m_coherence->value();
    request.comment = m_comment->toPlainText().trimmed();
    m_saveInFlight = true;
    setSaveState(QStringLiteral("Saving …"), QStringLiteral("saving"));
    updateEnabled();
    startJob(request);
}

void FeedbackPanel::refreshAggregates()
{
    startJob(std::nullopt);
}

void FeedbackPanel::startJob(std::optional<SaveRequest> save)
{
    ++m_jobsInFlight;
    auto* watcher = new QFutureWatcher<Outcome>(this);
    connect(watcher, &QFutureWatcher<Outcome>::finished, this, [this, watcher] {
        --m_jobsInFlight;
        const Outcome outcome = watcher->result();
        watcher->deleteLater();
        onJobFinished(outcome);
    });
    watcher->setFuture(QtConcurrent::run(&m_pool, &FeedbackPanel::runJob, m_databasePath, save, m_runDir,
                                         m_sceneId, grouping()));
}

FeedbackPanel::Outcome FeedbackPanel::runJob(const QString& databasePath, std::optional<SaveRequest> save,
                                             const QString& runDir, const QString& sceneId, FeedbackGroup grouping)
{
    Outcome out;
    out.saveRequested = save.has_value();
    out.ratingsRunDir = runDir;
    out.ratingsSceneId = sceneId;
    if (save)
        out.request = *save;
    store::Database db;
    if (const Error e = db.open(databasePath); !e.isNull()) {
        out.saveError = e;
        out.aggregatesError = e.message;
        return out;
    }
    store::FeedbackService service(db);
    if (save)
        out.saveError = service.rate(save->runDir, save->sceneId, save->stars, save->coherence, save->comment,
                                     &out.rating);
    QVector<store::FeedbackAggregate> aggregates;
    if (const Error e = service.aggregates(grouping, aggregates); !e.isNull())
        out.aggregatesError = e.message;
    for (const auto& a : aggregates)
        out.aggregates << store::FeedbackService::format(a);
    if (!runDir.isEmpty()) {
        QVector<store::Rating> ratings;
        if (service.ratingsOf(runDir, ratings).isNull()) {
            for (const auto& r : ratings) {
                if (r.sceneId != sceneId)
                    continue;
                QString line = QString::number(r.stars) + QChar(0x2605);
                if (r.coherence)
                    line += QStringLiteral(", coherence %1").arg(*r.coherence);
                if (!r.comment.isEmpty())
                    line += QStringLiteral(" — ") + r.comment;
                line += QStringLiteral(" (%1, %2)").arg(r.operatorName, r.ratedAt.toLocalTime().toString(Qt::ISODate));
                out.sceneRatings << line;
            }
        }
    }
    return out;
}

void FeedbackPanel::onJobFinished(const Outcome& outcome)
{
    if (outcome.saveRequested) {
        m_saveInFlight = false;
        const SaveRequest& r = outcome.request;
        if (outcome.saveError.isNull()) {
            setSaveState(QStringLiteral("Saved %1%2 for %3 at %4")
                             .arg(r.stars)
                             .arg(QChar(0x2605))
                             .arg(r.sceneId, QTime::currentTime().toString(QStringLiteral("HH:mm:ss"))),
                         QStringLiteral("saved"));
            Q_EMIT ratingSaved(r.runDir, r.sceneId, r.stars);
        } else {
            const QString message = QStringLiteral("Not saved (%1): %2").arg(r.sceneId, outcome.saveError.message);
            setSaveState(message, QStringLiteral("error"));
            Q_EMIT saveFailed(message);
        }
        updateEnabled();
    }
    m_aggregates->clear();
    if (!outcome.aggregatesError.isEmpty()) {
        m_aggregates->addItem(QStringLiteral("Ratings unavailable: ") + outcome.aggregatesError);
    } else if (outcome.aggregates.isEmpty()) {
        m_aggregates->addItem(QStringLiteral("No ratings yet"));
    } else {
        m_aggregates->addItems(outcome.aggregates);
    }
    if (outcome.ratingsRunDir == m_runDir && outcome.ratingsSceneId == m_sceneId)
        m_previousRatings->setText(outcome.sceneRatings.isEmpty()
                                       ? QString()
                                       : QStringLiteral("Earlier ratings of this scene:\n") +
                                             outcome.sceneRatings.join(QLatin1Char('\n')));
    Q_EMIT aggregatesRefreshed();
}

} // namespace gd::ui
