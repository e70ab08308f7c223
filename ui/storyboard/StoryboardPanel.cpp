#include "storyboard/StoryboardPanel.h"

#include "storyboard/CandidateStrip.h"
#include "storyboard/PromptEditDialog.h"
#include "storyboard/ShotList.h"
#include "common/StatusColor.h"
#include "storyboard/StoryboardGridModel.h"
#include "storyboard/StoryboardKeys.h"
#include "storyboard/StoryboardReferenceModel.h"
#include "storyboard/StoryboardTile.h"
#include "watcher/ThumbnailCache.h"

#include <QDir>
#include <QEvent>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QStackedWidget>
#include <QVBoxLayout>

namespace gd::ui {

using storyboard::ItemKind;
using storyboard::StoryboardGridModel;
using storyboard::StoryboardReferenceModel;
using storyboard::StoryboardStage;

namespace {

constexpr QSize kImageSize(240, 135);
constexpr QSize kCandidateSize(64, 36);

const QVector<StoryboardStage> kStages{StoryboardStage::References, StoryboardStage::Keyframes,
                                       StoryboardStage::Video, StoryboardStage::UpdateStale};

QString stageTitle(StoryboardStage stage)
{
    switch (stage) {
    case StoryboardStage::References:
        return QStringLiteral("Render references");
    case StoryboardStage::Keyframes:
        return QStringLiteral("Render keyframes");
    case StoryboardStage::Video:
        return QStringLiteral("Render video for approved shots");
    case StoryboardStage::UpdateStale:
        return QStringLiteral("Update stale");
    }
    return {};
}

QString stageObjectName(StoryboardStage stage)
{
    switch (stage) {
    case StoryboardStage::References:
        return QStringLiteral("renderReferencesButton");
    case StoryboardStage::Keyframes:
        return QStringLiteral("renderKeyframesButton");
    case StoryboardStage::Video:
        return QStringLiteral("renderVideoButton");
    case StoryboardStage::UpdateStale:
        return QStringLiteral("updateStaleButton");
    }
    return {};
}

QString stageExplanation(StoryboardStage stage)
{
    switch (stage) {
    case StoryboardStage::References:
        return QStringLiteral("Render candidates of every reference sheet not rendered yet or stale.");
    case StoryboardStage::Keyframes:
        return QStringLiteral("Render keyframe candidates of every shot not rendered yet or stale, anchored on the "
                              "approved sheets; the vision judge picks the best.");
    case StoryboardStage::Video:
        return QStringLiteral("Render the image-to-video pass of every shot whose keyframe is approved and fresh.");
    case StoryboardStage::UpdateStale:
        return QStringLiteral("Re-render only the stale items: sheets, then the keyframes showing them, then clips.");
    }
    return {};
}

QString shortEstimate(const storyboard::StageEstimate& e)
{
    if (e.items == 0)
        return QStringLiteral("nothing to do");
    if (!e.totalSeconds)
        return QStringLiteral("est. unknown");
    return QStringLiteral("~") + storyboard::GpuTimeEstimator::formatSeconds(*e.totalSeconds);
}

} // namespace

StoryboardPanel::StoryboardPanel(QWidget* parent)
    : QWidget(parent),
      m_grid(new StoryboardGridModel(this)),
      m_refs(new StoryboardReferenceModel(this)),
      m_images(new ThumbnailCache(kImageSize, 256, this)),
      m_candidateImages(new ThumbnailCache(kCandidateSize, 512, this))
{
    m_fileChooser = [this](const QString& title) {
        return QFileDialog::getOpenFileName(this, title, QString(), QStringLiteral("Images (*.png *.jpg *.jpeg *.webp)"));
    };

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(buildToolbar());

    auto* progressRow = new QHBoxLayout;
    m_progressLabel = new QLabel(this);
    m_progressLabel->setObjectName(QStringLiteral("storyboardProgressLabel"));
    m_progressLabel->setTextFormat(Qt::PlainText);
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("storyboardProgressBar"));
    m_progress->setToolTip(QStringLiteral("Candidates rendered in this stage"));
    m_progress->setMaximumWidth(260);
    progressRow->addWidget(m_progressLabel, 1);
    progressRow->addWidget(m_progress);
    layout->addLayout(progressRow);
    m_progressLabel->hide();
    m_progress->hide();

    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("storyboardSummary"));
    m_summary->setTextFormat(Qt::PlainText);
    m_summary->setToolTip(QStringLiteral("Shots by state of their keyframe: fresh, stale (made from other inputs), "
                                         "blocked (a sheet is missing) and awaiting approval."));
    layout->addWidget(m_summary);
    m_message = new QLabel(this);
    m_message->setObjectName(QStringLiteral("storyboardMessage"));
    m_message->setTextFormat(Qt::PlainText);
    m_message->setWordWrap(true);
    layout->addWidget(m_message);

    m_stack = new QStackedWidget(this);
    m_empty = new QLabel(QStringLiteral("No storyboard open.\nFile → New storyboard from the current story, or File → "
                                        "Open storyboard…"),
                         this);
    m_empty->setObjectName(QStringLiteral("storyboardEmpty"));
    m_empty->setAlignment(Qt::AlignCenter);
    m_stack->addWidget(m_empty);

    auto* content = new QWidget(this);
    auto* contentLayout = new QVBoxLayout(content);
    contentLayout->setContentsMargins(0, 0, 0, 0);
    auto* refsTitle = new QLabel(QStringLiteral("Reference sheets"), content);
    refsTitle->setToolTip(QStringLiteral("One sheet per character look and location: approve one candidate (or upload "
                                         "an image) before rendering keyframes of the shots that show it."));
    QFont bold = refsTitle->font();
    bold.setBold(true);
    refsTitle->setFont(bold);
    contentLayout->addWidget(refsTitle);
    m_refScroll = new QScrollArea(content);
    m_refScroll->setObjectName(QStringLiteral("referenceStrip"));
    m_refScroll->setWidgetResizable(true);
    m_refScroll->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_refStrip = new QWidget(m_refScroll);
    m_refLayout = new QHBoxLayout(m_refStrip);
    m_refLayout->setContentsMargins(2, 2, 2, 2);
    m_refLayout->addStretch(1);
    m_refScroll->setWidget(m_refStrip);
    contentLayout->addWidget(m_refScroll);
    auto* shotsTitle = new QLabel(QStringLiteral("Shots"), content);
    shotsTitle->setFont(bold);
    shotsTitle->setToolTip(QStringLiteral("One row per scene; approve a keyframe to let the video pass render it."));
    contentLayout->addWidget(shotsTitle);
    auto* shotScroll = new QScrollArea(content);
    shotScroll->setObjectName(QStringLiteral("shotGrid"));
    shotScroll->setWidgetResizable(true);
    m_shotGrid = new QWidget(shotScroll);
    m_shotLayout = new QGridLayout(m_shotGrid);
    m_shotLayout->setContentsMargins(2, 2, 2, 2);
    m_shotLayout->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    shotScroll->setWidget(m_shotGrid);
    contentLayout->addWidget(shotScroll, 1);
    m_stack->addWidget(content);
    layout->addWidget(m_stack, 1);

    connect(m_grid, &QAbstractItemModel::modelReset, this, &StoryboardPanel::rebuildShotTiles);
    connect(m_grid, &QAbstractItemModel::dataChanged, this, [this](const QModelIndex& from, const QModelIndex& to) {
        for (int r = from.row(); r <= to.row(); ++r)
            updateShotTile(r);
    });
    connect(m_refs, &QAbstractItemModel::modelReset, this, &StoryboardPanel::rebuildReferenceTiles);
    connect(m_refs, &QAbstractItemModel::dataChanged, this, [this](const QModelIndex& from, const QModelIndex& to) {
        for (int r = from.row(); r <= to.row(); ++r)
            updateReferenceTile(r);
    });
    attach(nullptr);
}

StoryboardPanel::~StoryboardPanel() = default;

QWidget* StoryboardPanel::buildToolbar()
{
    auto* bar = new QWidget(this);
    bar->setObjectName(QStringLiteral("storyboardToolbar"));
    auto* row = new QHBoxLayout(bar);
    row->setContentsMargins(0, 0, 0, 0);
    for (StoryboardStage stage : kStages) {
        auto* b = new QPushButton(stageTitle(stage), bar);
        b->setObjectName(stageObjectName(stage));
        connect(b, &QPushButton::clicked, this, [this, stage] {
            if (m_controller)
                m_controller->start(stage);
        });
        m_stageButtons.insert(static_cast<int>(stage), b);
        row->addWidget(b);
    }
    m_cancel = new QPushButton(QStringLiteral("Cancel"), bar);
    m_cancel->setObjectName(QStringLiteral("cancelStageButton"));
    m_cancel->setToolTip(QStringLiteral("Stop the stage now; what it rendered so far is kept."));
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        if (m_controller)
            m_controller->cancel();
    });
    row->addWidget(m_cancel);
    row->addStretch(1);
    return bar;
}

QPushButton* StoryboardPanel::stageButton(StoryboardStage stage) const
{
    return m_stageButtons.value(static_cast<int>(stage));
}

void StoryboardPanel::setFileChooser(std::function<QString(const QString&)> chooser)
{
    m_fileChooser = std::move(chooser);
}

void StoryboardPanel::attach(storyboard::StoryboardController* controller)
{
    if (m_controller)
        disconnect(m_controller, nullptr, this, nullptr);
    m_controller = controller;
    if (m_controller) {
        using C = storyboard::StoryboardController;
        connect(m_controller, &C::stateChanged, this, &StoryboardPanel::refreshStageButtons);
        connect(m_controller, &C::message, this, [this](const QString& line) { showMessage(line); });
        connect(m_controller, &C::stageStarted, this, [this](StoryboardStage stage, int items, const QString& estimate) {
            m_stageItems = items;
            m_stageDone = 0;
            m_progress->setRange(0, std::max(1, items));
            m_progress->setValue(0);
            m_progressLabel->setText(QStringLiteral("%1: %2 to render, estimated GPU time %3")
                                         .arg(stageTitle(stage))
                                         .arg(items)
                                         .arg(estimate));
            m_progressLabel->show();
            m_progress->show();
            setBusy(true);
        });
        connect(m_controller, &C::runStarted, this, [this](pipeline::RunController* run) {
            connect(run, &pipeline::RunController::sceneFinished, this, [this] {
                ++m_stageDone;
                m_progress->setValue(std::min(m_stageDone, m_progress->maximum()));
            });
        });
        connect(m_controller, &C::awaitingApproval, this, [this](StoryboardStage, const QStringList& keys) {
            if (!keys.isEmpty())
                showMessage(QStringLiteral("%1 item(s) await your approval").arg(keys.size()));
        });
        connect(m_controller, &C::stageFinished, this, [this](StoryboardStage stage, int exitCode, const QString& text) {
            m_progressLabel->hide();
            m_progress->hide();
            setBusy(false);
            const QString what = stageTitle(stage);
            if (exitCode == 0)
                showMessage(QStringLiteral("%1: done%2").arg(what, text.isEmpty() ? QString() : QStringLiteral(" — ") + text));
            else if (exitCode == 130)
                showMessage(QStringLiteral("%1: cancelled; what was rendered is kept").arg(what));
            else
                showMessage(QStringLiteral("%1 failed (exit %2): %3").arg(what).arg(exitCode).arg(text), true);
        });
    }
    m_grid->setController(controller);
    m_refs->setController(controller);
    rebuildReferenceTiles();
    rebuildShotTiles();
    setBusy(m_controller && m_controller->isBusy());
    refreshStageButtons();
}

void StoryboardPanel::setBusy(bool busy)
{
    m_busy = busy;
    m_cancel->setEnabled(busy);
    for (StoryboardTile* t : std::as_const(m_shotTiles))
        t->setBusy(busy);
    for (StoryboardTile* t : std::as_const(m_refTiles))
        t->setBusy(busy);
    refreshStageButtons();
}

void StoryboardPanel::refreshStageButtons()
{
    const bool open = m_controller && !m_controller->directory().isEmpty();
    m_stack->setCurrentIndex(open ? 1 : 0);
    for (StoryboardStage stage : kStages) {
        QPushButton* b = stageButton(stage);
        if (!open) {
            b->setText(stageTitle(stage));
            b->setEnabled(false);
            b->setToolTip(stageExplanation(stage) + QStringLiteral("\nNo storyboard is open."));
            continue;
        }
        const storyboard::StageEstimate e = m_controller->estimate(stage);
        b->setText(QStringLiteral("%1 (%2)").arg(stageTitle(stage), shortEstimate(e)));
        b->setEnabled(!m_busy && e.items > 0);
        b->setToolTip(stageExplanation(stage) + QStringLiteral("\nEstimated GPU time: ") + e.text() +
                      (e.items == 0 ? QStringLiteral("\nNothing to render: every item is fresh, blocked or waits for "
                                                     "an approval.")
                                    : QString()));
    }
    if (!open) {
        m_summary->clear();
        return;
    }
    int fresh = 0, stale = 0, blocked = 0, waiting = 0;
    for (int r = 0; r < m_grid->rowCount(); ++r) {
        const QModelIndex i = m_grid->index(r, 0);
        const QString f = i.data(StoryboardGridModel::FreshnessRole).toString();
        fresh += f == QLatin1String("fresh");
        stale += f == QLatin1String("stale");
        blocked += f == QLatin1String("blocked");
        waiting += i.data(StoryboardGridModel::SelectedVersionRole).toInt() > 0 &&
                   !i.data(StoryboardGridModel::ApprovedRole).toBool();
        const QVariantMap end = i.data(StoryboardGridModel::EndKeyframeRole).toMap();
        waiting += end.value(QStringLiteral("version")).toInt() > 0 && !end.value(QStringLiteral("approved")).toBool();
    }
    m_summary->setText(QStringLiteral("%1 shots: %2 fresh, %3 stale, %4 blocked, %5 awaiting approval — %6")
                           .arg(m_grid->rowCount())
                           .arg(fresh)
                           .arg(stale)
                           .arg(blocked)
                           .arg(waiting)
                           .arg(QDir::toNativeSeparators(m_controller->directory())));
}

void StoryboardPanel::rebuildShotTiles()
{
    qDeleteAll(m_shotTiles);
    m_shotTiles.clear();
    m_shotByRow.clear();
    QLayoutItem* item = nullptr;
    while ((item = m_shotLayout->takeAt(0)) != nullptr) {
        delete item->widget();
        delete item;
    }
    int lastScene = -1;
    int gridRow = -1;
    int column = 0;
    for (int r = 0; r < m_grid->rowCount(); ++r) {
        const QModelIndex i = m_grid->index(r, 0);
        const int scene = i.data(StoryboardGridModel::SceneIndexRole).toInt();
        if (scene != lastScene) {
            lastScene = scene;
            ++gridRow;
            column = 1;
            auto* label = new QLabel(i.data(StoryboardGridModel::SceneIdRole).toString(), m_shotGrid);
            label->setObjectName(QStringLiteral("sceneLabel:") + i.data(StoryboardGridModel::SceneIdRole).toString());
            label->setAlignment(Qt::AlignTop | Qt::AlignLeft);
            m_shotLayout->addWidget(label, gridRow, 0);
        }
        const QString key = i.data(StoryboardGridModel::ShotKeyRole).toString();
        auto* tile = new StoryboardTile(StoryboardTile::Kind::Shot, key, m_images, m_candidateImages, m_shotGrid);
        connectTile(tile);
        m_shotLayout->addWidget(tile, gridRow, column++, Qt::AlignTop);
        m_shotTiles.insert(key, tile);
        m_shotByRow.append(tile);
        updateShotTile(r);
        tile->setBusy(m_busy);
    }
    // Tiles keep their size at the top left; the spare room goes to an empty last column and row.
    for (int c = 0; c < m_shotLayout->columnCount(); ++c)
        m_shotLayout->setColumnStretch(c, 0);
    for (int r = 0; r < m_shotLayout->rowCount(); ++r)
        m_shotLayout->setRowStretch(r, 0);
    m_shotLayout->setColumnStretch(m_shotLayout->columnCount(), 1);
    m_shotLayout->setRowStretch(gridRow + 1, 1);
    refreshStageButtons();
}

void StoryboardPanel::rebuildReferenceTiles()
{
    qDeleteAll(m_refTiles);
    m_refTiles.clear();
    m_refByRow.clear();
    for (int r = 0; r < m_refs->rowCount(); ++r) {
        const QString key = m_refs->referenceKey(r);
        auto* tile = new StoryboardTile(StoryboardTile::Kind::Reference, key, m_images, m_candidateImages, m_refStrip);
        connectTile(tile);
        m_refLayout->insertWidget(r, tile);
        m_refTiles.insert(key, tile);
        m_refByRow.append(tile);
        updateReferenceTile(r);
        tile->setBusy(m_busy);
    }
    fitReferenceStrip();
}

void StoryboardPanel::updateShotTile(int row)
{
    if (row < 0 || row >= m_shotByRow.size())
        return;
    const QModelIndex i = m_grid->index(row, 0);
    using M = StoryboardGridModel;
    StoryboardTileData d;
    d.title = i.data(M::ShotIdRole).toString();
    d.description = i.data(M::DescriptionRole).toString();
    d.imageFile = i.data(M::KeyframeFileRole).toString();
    d.version = i.data(M::SelectedVersionRole).toInt();
    d.chosen = i.data(M::ChosenCandidateRole).toInt();
    d.candidates = i.data(M::CandidateFilesRole).toStringList();
    d.scores = i.data(M::CandidateScoresRole).toList();
    d.reasons = i.data(M::CandidateReasonsRole).toStringList();
    d.score = i.data(M::JudgeScoreRole);
    d.judgeReasons = i.data(M::JudgeReasonsRole).toString();
    d.judgeModel = i.data(M::JudgeModelRole).toString();
    d.chosenBy = i.data(M::ChosenByRole).toString();
    d.approved = i.data(M::ApprovedRole).toBool();
    d.freshness = i.data(M::FreshnessRole).toString();
    d.freshnessReasons = i.data(M::FreshnessReasonsRole).toStringList();
    d.clipState = i.data(M::ClipStateRole).toString();
    d.clipReasons = i.data(M::ClipReasonsRole).toStringList();
    d.estimate = i.data(M::EstimateRole).toString();
    d.end = i.data(M::EndKeyframeRole).toMap();
    m_shotByRow.at(row)->setData(d);
}

void StoryboardPanel::updateReferenceTile(int row)
{
    if (row < 0 || row >= m_refByRow.size())
        return;
    const QModelIndex i = m_refs->index(row, 0);
    using M = StoryboardReferenceModel;
    StoryboardTileData d;
    d.title = i.data(M::NameRole).toString();
    d.subtitle = i.data(M::LookRole).toString();
    d.description = i.data(M::PromptRole).toString();
    d.imageFile = i.data(M::SheetFileRole).toString();
    d.version = i.data(M::SelectedVersionRole).toInt();
    d.chosen = i.data(M::ChosenCandidateRole).toInt();
    d.candidates = i.data(M::CandidateFilesRole).toStringList();
    d.approved = i.data(M::ApprovedRole).toBool();
    d.freshness = i.data(M::FreshnessRole).toString();
    d.freshnessReasons = i.data(M::FreshnessReasonsRole).toStringList();
    d.estimate = i.data(M::EstimateRole).toString();
    d.source = i.data(M::SourceRole).toString();
    m_refByRow.at(row)->setData(d);
    fitReferenceStrip();
}

void StoryboardPanel::fitReferenceStrip()
{
    // The strip is one row of whole tiles: as tall as the tallest, plus its horizontal scroll bar.
    int tallest = 0;
    for (StoryboardTile* t : std::as_const(m_refByRow))
        tallest = std::max(tallest, t->sizeHint().height());
    m_refScroll->setFixedHeight(tallest + m_refScroll->horizontalScrollBar()->sizeHint().height() +
                                2 * m_refScroll->frameWidth() + 6);
}

void StoryboardPanel::connectTile(StoryboardTile* tile)
{
    const ItemKind kind = tile->kind() == StoryboardTile::Kind::Shot ? ItemKind::Keyframe : ItemKind::Reference;
    const QString key = tile->key();
    connect(tile, &StoryboardTile::approveRequested, this, [this, tile, kind, key](bool approve) {
        if (!m_controller)
            return;
        // Approving with nothing chosen takes the candidate the tile shows (the first).
        if (approve && tile->data().chosen == 0 && !tile->data().candidates.isEmpty()) {
            const Error chosen = m_controller->choose(kind, key, tile->data().version, 1);
            if (!chosen.isNull()) {
                showError(QStringLiteral("Cannot choose candidate 1 of ") + key, chosen);
                return;
            }
        }
        const Error e = approve ? m_controller->approve(kind, key) : m_controller->unapprove(kind, key);
        if (!e.isNull())
            showError(approve ? QStringLiteral("Cannot approve ") + key : QStringLiteral("Cannot unapprove ") + key, e);
    });
    connect(tile, &StoryboardTile::candidateChosen, this, [this, kind, key](int version, int candidate) {
        if (!m_controller)
            return;
        const Error e = m_controller->choose(kind, key, version, candidate);
        if (!e.isNull())
            showError(QStringLiteral("Cannot choose candidate %1 of %2").arg(candidate).arg(key), e);
    });
    connect(tile, &StoryboardTile::rerollRequested, this, [this, kind, key] {
        if (m_controller)
            m_controller->start(kind == ItemKind::Keyframe ? StoryboardStage::Keyframes : StoryboardStage::References,
                                {key});
    });
    connect(tile, &StoryboardTile::editRequested, this, [this, kind, key] {
        if (kind == ItemKind::Keyframe)
            editShot(key);
        else
            editReference(key);
    });
    connect(tile, &StoryboardTile::uploadRequested, this, [this, kind, key] { upload(kind, key); });
    if (kind != ItemKind::Keyframe)
        return;
    // A bookend shot's end keyframe: the same gate and override, on its own track.
    connect(tile, &StoryboardTile::endApproveRequested, this, [this, tile, key](bool approve) {
        if (!m_controller)
            return;
        const QVariantMap& end = tile->data().end;
        if (approve && end.value(QStringLiteral("chosen")).toInt() == 0 &&
            !end.value(QStringLiteral("candidates")).toStringList().isEmpty()) {
            const Error chosen =
                m_controller->choose(ItemKind::EndKeyframe, key, end.value(QStringLiteral("version")).toInt(), 1);
            if (!chosen.isNull()) {
                showError(QStringLiteral("Cannot choose candidate 1 of the end keyframe of ") + key, chosen);
                return;
            }
        }
        const Error e = approve ? m_controller->approve(ItemKind::EndKeyframe, key)
                                : m_controller->unapprove(ItemKind::EndKeyframe, key);
        if (!e.isNull())
            showError((approve ? QStringLiteral("Cannot approve the end keyframe of ")
                               : QStringLiteral("Cannot unapprove the end keyframe of ")) +
                          key,
                      e);
    });
    connect(tile, &StoryboardTile::endCandidateChosen, this, [this, key](int version, int candidate) {
        if (!m_controller)
            return;
        const Error e = m_controller->choose(ItemKind::EndKeyframe, key, version, candidate);
        if (!e.isNull())
            showError(QStringLiteral("Cannot choose candidate %1 of the end keyframe of %2").arg(candidate).arg(key), e);
    });
    connect(tile, &StoryboardTile::endRerollRequested, this, [this, key] {
        if (m_controller)
            m_controller->start(StoryboardStage::Keyframes, {storyboard::StoryboardKeys::endKeyframe(key)});
    });
}

void StoryboardPanel::editShot(const QString& shotKey)
{
    if (!m_controller)
        return;
    const storyboard::ShotList shots(m_controller->story());
    const storyboard::ShotRef* ref = shots.find(shotKey);
    if (!ref)
        return;
    auto* dialog = new PromptEditDialog(
        QStringLiteral("Edit shot %1").arg(shotKey),
        QStringLiteral("The keyframe prompt of this shot. Saving marks its keyframe (and clip) stale; \"Update stale\" "
                       "re-renders them."),
        this);
    dialog->setObjectName(QStringLiteral("shotEditDialog"));
    dialog->addField(QStringLiteral("firstFrame"), QStringLiteral("First frame"), ref->shot.firstFrame, true);
    dialog->addField(QStringLiteral("camera"), QStringLiteral("Camera"), ref->shot.camera, false);
    dialog->addField(QStringLiteral("motion"), QStringLiteral("Motion"), ref->shot.motion, false);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    const story::StoryShot base = ref->shot;
    connect(dialog, &QDialog::accepted, this, [this, dialog, shotKey, base] {
        if (!m_controller)
            return;
        story::StoryShot shot = base;
        shot.firstFrame = dialog->value(QStringLiteral("firstFrame")).trimmed();
        shot.camera = dialog->value(QStringLiteral("camera")).trimmed();
        shot.motion = dialog->value(QStringLiteral("motion")).trimmed();
        const Error e = m_controller->editShot(shotKey, shot);
        if (!e.isNull())
            showError(QStringLiteral("Cannot save shot ") + shotKey, e);
    });
    dialog->open();
    Q_EMIT promptDialogOpened(dialog);
}

void StoryboardPanel::editReference(const QString& referenceKey)
{
    if (!m_controller)
        return;
    auto* dialog = new PromptEditDialog(
        QStringLiteral("Edit sheet prompt: %1").arg(storyboard::StoryboardKeys::displayName(referenceKey)),
        QStringLiteral("The reference-sheet prompt. Saving marks this sheet and every shot showing it stale."), this);
    dialog->setObjectName(QStringLiteral("referenceEditDialog"));
    dialog->addField(QStringLiteral("prompt"), QStringLiteral("Sheet prompt"),
                     StoryboardReferenceModel::promptOf(m_controller->story(), referenceKey), true);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog, referenceKey] {
        if (!m_controller)
            return;
        const Error e = m_controller->editReferencePrompt(referenceKey, dialog->value(QStringLiteral("prompt")).trimmed());
        if (!e.isNull())
            showError(QStringLiteral("Cannot save the prompt of ") + referenceKey, e);
    });
    dialog->open();
    Q_EMIT promptDialogOpened(dialog);
}

void StoryboardPanel::upload(ItemKind kind, const QString& key)
{
    if (!m_controller || !m_fileChooser)
        return;
    const QString what = kind == ItemKind::Reference ? QStringLiteral("sheet") : QStringLiteral("keyframe");
    const QString name = kind == ItemKind::Reference ? storyboard::StoryboardKeys::displayName(key) : key;
    const QString path = m_fileChooser(QStringLiteral("Image for %1").arg(name));
    if (path.isEmpty())
        return;
    // One image copy and hash: small and local, done in place like the other operator edits.
    const Error e = m_controller->upload(kind, key, path);
    if (!e.isNull())
        showError(QStringLiteral("Cannot use %1 as the %2 of %3").arg(QDir::toNativeSeparators(path), what, key), e);
    else
        showMessage(QStringLiteral("Uploaded %1 as the approved %2 of %3").arg(QDir::toNativeSeparators(path), what, name));
}

void StoryboardPanel::showError(const QString& what, const Error& error)
{
    showMessage(what + QStringLiteral(": ") + error.message, true);
}

void StoryboardPanel::showMessage(const QString& text, bool error)
{
    m_message->setText(text);
    m_messageIsError = error;
    applyMessagePalette();
}

// The message's text colour: the palette's own, or its error red (lighter on a dark palette).
void StoryboardPanel::applyMessagePalette()
{
    QPalette pal = palette();
    if (m_messageIsError)
        pal.setColor(QPalette::WindowText, StatusColor::color(StatusColor::Status::Bad, palette()));
    m_message->setPalette(pal);
}

void StoryboardPanel::changeEvent(QEvent* event)
{
    QWidget::changeEvent(event);
    // Badges keep fixed fills; the message (an error too) takes the new palette's colours.
    if (event->type() == QEvent::PaletteChange && m_message)
        applyMessagePalette();
}

} // namespace gd::ui
