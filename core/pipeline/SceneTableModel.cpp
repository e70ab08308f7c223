#include "pipeline/SceneTableModel.h"

#include "pipeline/RunController.h"
#include "telemetry/ArtifactWriter.h"

#include <QDir>
#include <algorithm>
#include <cmath>

namespace gd::pipeline {

SceneTableModel::SceneTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void SceneTableModel::attach(RunController* controller)
{
    if (m_controller)
        disconnect(m_controller, nullptr, this, nullptr);
    m_controller = controller;
    beginResetModel();
    m_rows.clear();
    m_runDir.clear();
    endResetModel();
    if (!controller)
        return;
    connect(controller, &RunController::runDirectoryCreated, this, &SceneTableModel::resetFromRecord);
    connect(controller, &RunController::attemptStarted, this, &SceneTableModel::onAttemptStarted);
    connect(controller, &RunController::attemptState, this, &SceneTableModel::onAttemptState);
    connect(controller, &RunController::sceneState, this, &SceneTableModel::onSceneState);
    connect(controller, &RunController::sceneProgress, this, &SceneTableModel::onProgress);
    connect(controller, &RunController::attemptFinished, this, &SceneTableModel::onAttemptFinished);
    connect(controller, &RunController::sceneFinished, this, &SceneTableModel::onSceneFinished);
    connect(controller, &RunController::destroyed, this, [this] {
        // The rows stay (the operator may still browse a finished run); only the link goes.
        m_controller = nullptr;
    });
    // Attached to a run that is already going: start from what it has recorded so far.
    if (!controller->runDir().isEmpty())
        resetFromRecord();
}

RunController* SceneTableModel::controller() const
{
    return m_controller;
}

void SceneTableModel::resetFromRecord()
{
    if (!m_controller)
        return;
    const telemetry::RunRecord& run = m_controller->record();
    beginResetModel();
    m_runDir = run.runDir;
    m_rows.clear();
    for (const telemetry::SceneRecord& scene : run.scenes) {
        Row row;
        row.sceneId = scene.sceneId;
        row.title = scene.title;
        row.frameFloor = scene.frameFloor;
        row.attempts = int(scene.attempts.size());
        if (!scene.attempts.isEmpty())
            fillFromAttempt(row, scene.attempts.last());
        if (scene.status == QLatin1String("running"))
            row.status = SceneStatus::Running;
        else if (scene.status == QLatin1String("requeued"))
            row.status = SceneStatus::Requeued;
        else if (scene.status != QLatin1String("queued"))
            fillFromScene(row, scene);
        m_rows.append(row);
    }
    endResetModel();
}

int SceneTableModel::rowOf(const QString& sceneId) const
{
    for (int i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].sceneId == sceneId)
            return i;
    return -1;
}

void SceneTableModel::changed(int row)
{
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

void SceneTableModel::onAttemptStarted(const QString& sceneId, int attempt, int maxAttempts)
{
    const int r = rowOf(sceneId);
    if (r < 0)
        return;
    Row& row = m_rows[r];
    row.status = SceneStatus::Submitted;
    row.attempts = attempt;
    row.maxAttempts = maxAttempts;
    row.progress = 0;
    row.progressDetail.clear();
    changed(r);
}

void SceneTableModel::onAttemptState(const QString& sceneId, SceneAttempt::State state)
{
    const int r = rowOf(sceneId);
    if (r < 0)
        return;
    SceneStatus status;
    switch (state) {
    case SceneAttempt::State::Preparing:
    case SceneAttempt::State::Submitting:
    case SceneAttempt::State::Queued:
        status = SceneStatus::Submitted;
        break;
    case SceneAttempt::State::Running:
    case SceneAttempt::State::AwaitingHistory:
        status = SceneStatus::Running;
        break;
    case SceneAttempt::State::AwaitingOutputs:
    case SceneAttempt::State::Collecting:
    case SceneAttempt::State::Finishing:
        status = SceneStatus::Collecting;
        break;
    case SceneAttempt::State::Done:
    default:
        return; // attemptFinished / sceneFinished say how it ended
    }
    if (m_rows[r].status == status)
        return;
    m_rows[r].status = status;
    changed(r);
}

void SceneTableModel::onSceneState(const QString& sceneId, const QString& state)
{
    // Only the controller's own "requeued" is not an attempt state.
    if (state != QLatin1String("requeued"))
        return;
    const int r = rowOf(sceneId);
    if (r < 0)
        return;
    m_rows[r].status = SceneStatus::Requeued;
    changed(r);
}

void SceneTableModel::onProgress(const QString& sceneId, double fraction, const QString& detail)
{
    const int r = rowOf(sceneId);
    if (r < 0)
        return;
    Row& row = m_rows[r];
    row.progress = std::clamp(fraction, 0.0, 1.0);
    row.progressDetail = detail;
    changed(r);
}

void SceneTableModel::onAttemptFinished(const QString& sceneId, const telemetry::AttemptRecord& attempt)
{
    const int r = rowOf(sceneId);
    if (r < 0)
        return;
    fillFromAttempt(m_rows[r], attempt);
    changed(r);
}

void SceneTableModel::onSceneFinished(const telemetry::SceneRecord& scene)
{
    const int r = rowOf(scene.sceneId);
    if (r < 0)
        return;
    fillFromScene(m_rows[r], scene);
    changed(r);
}

void SceneTableModel::fillFromAttempt(Row& row, const telemetry::AttemptRecord& attempt) const
{
    row.frameCount = attempt.frameCount;
    row.durationSeconds = attempt.durationSeconds;
    row.framePaths.clear();
    const QDir framesDir(QDir(m_runDir).filePath(attempt.framesDir));
    for (const QString& name : attempt.frames)
        row.framePaths << framesDir.filePath(name);
    row.hasTelemetry = true;
    row.telemetry = telemetry::ArtifactWriter::telemetryToJson(m_runDir, attempt.telemetry);
    row.warnings = attempt.warnings + attempt.telemetry.fallbackNotes;
    row.warnings.removeDuplicates();
    row.errors = attempt.errors;
}

void SceneTableModel::fillFromScene(Row& row, const telemetry::SceneRecord& scene) const
{
    if (const telemetry::AttemptRecord* kept = scene.kept())
        fillFromAttempt(row, *kept);
    row.attempts = int(scene.attempts.size());
    row.frameFloor = scene.frameFloor;
    for (const QString& w : scene.warnings)
        if (!row.warnings.contains(w))
            row.warnings << w;
    for (const QString& e : scene.errors)
        if (!row.errors.contains(e))
            row.errors << e;
    if (scene.status == QLatin1String("succeeded")) {
        row.status = SceneStatus::Done;
        row.progress = 1;
    } else if (scene.status == QLatin1String("cancelled")) {
        row.status = SceneStatus::Cancelled;
    } else if (scene.status == QLatin1String("requeued")) {
        row.status = SceneStatus::Requeued;
    } else {
        row.status = SceneStatus::Failed;
    }
}

QString SceneTableModel::statusName(SceneStatus status)
{
    switch (status) {
    case SceneStatus::Queued:
        return QStringLiteral("queued");
    case SceneStatus::Submitted:
        return QStringLiteral("submitted");
    case SceneStatus::Running:
        return QStringLiteral("running");
    case SceneStatus::Collecting:
        return QStringLiteral("collecting");
    case SceneStatus::Done:
        return QStringLiteral("done");
    case SceneStatus::Requeued:
        return QStringLiteral("requeued");
    case SceneStatus::Failed:
        return QStringLiteral("failed");
    case SceneStatus::Cancelled:
        return QStringLiteral("cancelled");
    }
    return QString();
}

SceneTableModel::BadgeLevel SceneTableModel::vramLevel(std::optional<double> deltaMB)
{
    if (!deltaMB)
        return BadgeLevel::Unknown;
    const double taken = std::fabs(*deltaMB);
    if (taken > kVramLimitMB)
        return BadgeLevel::Bad;
    if (taken >= kVramLargeMB)
        return BadgeLevel::Notice;
    return BadgeLevel::Good;
}

std::optional<double> SceneTableModel::vramDelta(const Row& row) const
{
    const QJsonValue v = row.telemetry.value(QStringLiteral("GPU")).toObject().value(QStringLiteral("VramDeltaMB"));
    if (!v.isDouble())
        return std::nullopt;
    return v.toDouble();
}

QString SceneTableModel::doneMarkerSource(const Row& row) const
{
    if (!row.hasTelemetry)
        return QString();
    if (row.telemetry.value(QStringLiteral("DoneMarkerDetected")).toBool())
        return QStringLiteral("producer");
    if (row.telemetry.value(QStringLiteral("ForcedCopyTriggered")).toBool())
        return QStringLiteral("forced");
    return row.frameCount > 0 ? QStringLiteral("stability") : QString();
}

int SceneTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int SceneTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant SceneTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) {
        switch (section) {
        case SceneColumn:
            return QStringLiteral("Scene");
        case StatusColumn:
            return QStringLiteral("Status");
        case ProgressColumn:
            return QStringLiteral("Progress");
        case FramesColumn:
            return QStringLiteral("Frames");
        case DurationColumn:
            return QStringLiteral("Duration");
        case AttemptsColumn:
            return QStringLiteral("Attempts");
        case PreviewColumn:
            return QStringLiteral("Latest frame");
        case ExitReasonColumn:
            return QStringLiteral("Exit");
        case DoneMarkerColumn:
            return QStringLiteral("Marker");
        case ForcedCopyColumn:
            return QStringLiteral("Copy");
        case VramColumn:
            return QStringLiteral("VRAM Δ");
        case NotesColumn:
            return QStringLiteral("Warnings / errors");
        default:
            return QVariant();
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case ExitReasonColumn:
            return QStringLiteral("Why waiting for the /history entry stopped (HistoryExitReason)");
        case DoneMarkerColumn:
            return QStringLiteral("How the frames were known to be complete: producer done marker, "
                                  "stability window, or forced copy");
        case ForcedCopyColumn:
            return QStringLiteral("Whether frames were copied while still changing (forced copy)");
        case VramColumn:
            return QStringLiteral("Free VRAM after minus before the attempt, MB (negative = taken)");
        default:
            return QVariant();
        }
    }
    return QVariant();
}

QVariant SceneTableModel::display(const Row& row, int column) const
{
    switch (column) {
    case SceneColumn:
        return row.title.isEmpty() ? row.sceneId : QString(row.sceneId + QStringLiteral("  ") + row.title);
    case StatusColumn:
        return statusName(row.status);
    case ProgressColumn:
        return QStringLiteral("%1 %").arg(qRound(row.progress * 100));
    case FramesColumn:
        return QStringLiteral("%1 / %2").arg(row.frameCount).arg(row.frameFloor);
    case DurationColumn:
        return row.durationSeconds ? QStringLiteral("%1 s").arg(*row.durationSeconds, 0, 'f', 1) : QString();
    case AttemptsColumn:
        if (row.attempts == 0)
            return QString();
        return row.maxAttempts > 0 ? QStringLiteral("%1 / %2").arg(row.attempts).arg(row.maxAttempts)
                                   : QString::number(row.attempts);
    case PreviewColumn:
        return row.framePaths.isEmpty() ? QString() : QDir(row.framePaths.last()).dirName();
    case ExitReasonColumn:
        return row.hasTelemetry ? row.telemetry.value(QStringLiteral("HistoryExitReason")).toString() : QString();
    case DoneMarkerColumn: {
        const QString source = doneMarkerSource(row);
        if (source == QLatin1String("producer"))
            return QStringLiteral("marker");
        if (source == QLatin1String("stability"))
            return QStringLiteral("stable");
        if (source == QLatin1String("forced"))
            return QStringLiteral("none");
        return row.hasTelemetry ? QStringLiteral("none") : QString();
    }
    case ForcedCopyColumn:
        if (!row.hasTelemetry)
            return QString();
        return row.telemetry.value(QStringLiteral("ForcedCopyTriggered")).toBool() ? QStringLiteral("forced")
                                                                                   : QStringLiteral("clean");
    case VramColumn: {
        if (!row.hasTelemetry)
            return QString();
        const auto delta = vramDelta(row);
        return delta ? QStringLiteral("%1 MB").arg(*delta, 0, 'f', 1) : QStringLiteral("n/a");
    }
    case NotesColumn: {
        QStringList parts = row.errors;
        parts << row.warnings;
        return parts.join(QStringLiteral("; "));
    }
    default:
        return QVariant();
    }
}

QString SceneTableModel::toolTip(const Row& row, int column) const
{
    const QJsonObject& t = row.telemetry;
    switch (column) {
    case SceneColumn:
        return QStringLiteral("%1 — %2").arg(row.sceneId, row.title);
    case StatusColumn:
        return QStringLiteral(
                   "queued: waiting its turn · submitted: sent to ComfyUI, not executing yet · running: "
                   "ComfyUI is executing it · collecting: waiting for the done marker and copying frames · "
                   "done: frames collected · requeued: another attempt will run · failed: no usable frames "
                   "· cancelled: stopped by the operator\nNow: %1")
            .arg(statusName(row.status));
    case ProgressColumn:
        return QStringLiteral("ComfyUI progress: 20 % node share and 80 % sampler steps%1")
            .arg(row.progressDetail.isEmpty() ? QString() : QStringLiteral(" (") + row.progressDetail + QLatin1Char(')'));
    case FramesColumn:
        return QStringLiteral("Frames collected by the kept attempt against the scene's frame floor (%1). "
                              "Fewer than the floor requeues the scene within its retry budget.")
            .arg(row.frameFloor);
    case DurationColumn:
        return QStringLiteral("QueueEnd − QueueStart of the attempt: from POST /prompt to frames copied");
    case AttemptsColumn:
        return QStringLiteral("Attempts started / attempts the scene retry budget allows");
    case PreviewColumn:
        return row.framePaths.isEmpty() ? QStringLiteral("No frame collected yet") : row.framePaths.last();
    case ExitReasonColumn: {
        if (!row.hasTelemetry)
            return QStringLiteral("No attempt has finished yet");
        const QString reason = t.value(QStringLiteral("HistoryExitReason")).toString();
        QString meaning;
        if (reason == QLatin1String("success"))
            meaning = QStringLiteral("the /history entry was retrieved");
        else if (reason == QLatin1String("maxWait"))
            meaning = QStringLiteral("the history max wait (%1 s) elapsed").arg(t.value(QStringLiteral("MaxWaitSeconds")).toDouble());
        else if (reason == QLatin1String("attemptLimit"))
            meaning = QStringLiteral("the history attempt limit was reached");
        else if (reason == QLatin1String("postExecution"))
            meaning = QStringLiteral("success was seen but the outputs did not appear within the "
                                     "post-execution timeout");
        else
            meaning = QStringLiteral("the attempt ended before history polling (e.g. a failed submit)");
        return QStringLiteral("HistoryExitReason = %1: %2.\nCompletion seen via %3; %4 /history requests.")
            .arg(reason, meaning, t.value(QStringLiteral("CompletionSignal")).toString())
            .arg(t.value(QStringLiteral("HistoryAttempts")).toInt());
    }
    case DoneMarkerColumn: {
        if (!row.hasTelemetry)
            return QStringLiteral("No attempt has finished yet");
        const QString source = doneMarkerSource(row);
        QString text;
        if (source == QLatin1String("producer"))
            text = QStringLiteral("DoneMarkerDetected: the ComfyUI node wrote the done marker after flushing all "
                                  "frames, so they were taken at once (%1)")
                       .arg(t.value(QStringLiteral("DoneMarkerPath")).toString());
        else if (source == QLatin1String("stability"))
            text = QStringLiteral("No done marker: the frames were taken once the newest one stopped changing "
                                  "for the stability window");
        else
            text = QStringLiteral("No done marker was written by the producer");
        return text + QStringLiteral("\nWaited %1 s for the marker.")
                          .arg(t.value(QStringLiteral("DoneMarkerWaitSeconds")).toDouble(), 0, 'f', 1);
    }
    case ForcedCopyColumn:
        if (!row.hasTelemetry)
            return QStringLiteral("No attempt has finished yet");
        if (t.value(QStringLiteral("ForcedCopyTriggered")).toBool())
            return QStringLiteral("Forced copy: frames were still changing after every stability retry and were "
                                  "copied anyway; the debug file %1 lists what was seen")
                .arg(t.value(QStringLiteral("ForcedCopyDebugPath")).toString());
        return QStringLiteral("No forced copy: frames were complete (marker or stable) when copied");
    case VramColumn: {
        if (!row.hasTelemetry)
            return QStringLiteral("No attempt has finished yet");
        const QJsonObject gpu = t.value(QStringLiteral("GPU")).toObject();
        const auto delta = vramDelta(row);
        if (!delta)
            return QStringLiteral("VRAM was not measured (source %1): shown as n/a, never as 0")
                .arg(gpu.value(QStringLiteral("Source")).toString());
        return QStringLiteral("VramDeltaMB = free after − free before = %1 − %2 = %3 MB (negative means memory "
                              "was taken), source %4.\nGreen below %5 MB taken, amber from %5 MB, red over "
                              "the %6 MB limit.")
            .arg(gpu.value(QStringLiteral("VramAfterMB")).toDouble(), 0, 'f', 1)
            .arg(gpu.value(QStringLiteral("VramBeforeMB")).toDouble(), 0, 'f', 1)
            .arg(*delta, 0, 'f', 1)
            .arg(gpu.value(QStringLiteral("Source")).toString())
            .arg(kVramLargeMB, 0, 'f', 0)
            .arg(kVramLimitMB, 0, 'f', 0);
    }
    case NotesColumn: {
        QStringList lines;
        for (const QString& e : row.errors)
            lines << QStringLiteral("Error: ") + e;
        for (const QString& w : row.warnings)
            lines << QStringLiteral("Warning: ") + w;
        return lines.isEmpty() ? QStringLiteral("No warnings or errors") : lines.join(QLatin1Char('\n'));
    }
    default:
        return QString();
    }
}

SceneTableModel::BadgeLevel SceneTableModel::badgeLevel(const Row& row, int column) const
{
    switch (column) {
    case StatusColumn:
        switch (row.status) {
        case SceneStatus::Done:
            return BadgeLevel::Good;
        case SceneStatus::Requeued:
            return BadgeLevel::Notice;
        case SceneStatus::Failed:
            return BadgeLevel::Bad;
        case SceneStatus::Cancelled:
            return BadgeLevel::Unknown;
        default:
            return BadgeLevel::Neutral;
        }
    case FramesColumn:
        if (!row.hasTelemetry)
            return BadgeLevel::Neutral;
        return row.frameCount == 0                ? BadgeLevel::Bad
               : row.frameCount < row.frameFloor ? BadgeLevel::Notice
                                                 : BadgeLevel::Good;
    case ExitReasonColumn:
        if (!row.hasTelemetry)
            return BadgeLevel::Neutral;
        return row.telemetry.value(QStringLiteral("HistoryExitReason")).toString() == QLatin1String("success")
                   ? BadgeLevel::Good
                   : BadgeLevel::Notice;
    case DoneMarkerColumn: {
        if (!row.hasTelemetry)
            return BadgeLevel::Neutral;
        const QString source = doneMarkerSource(row);
        return source == QLatin1String("producer")    ? BadgeLevel::Good
               : source == QLatin1String("stability") ? BadgeLevel::Notice
                                                       : BadgeLevel::Unknown;
    }
    case ForcedCopyColumn:
        if (!row.hasTelemetry)
            return BadgeLevel::Neutral;
        return row.telemetry.value(QStringLiteral("ForcedCopyTriggered")).toBool() ? BadgeLevel::Bad
                                                                                   : BadgeLevel::Good;
    case VramColumn:
        return row.hasTelemetry ? vramLevel(vramDelta(row)) : BadgeLevel::Neutral;
    default:
        return BadgeLevel::Neutral;
    }
}

QVariant SceneTableModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return QVariant();
    const Row& row = m_rows[index.row()];
    switch (role) {
    case Qt::DisplayRole:
        return display(row, index.column());
    case Qt::ToolTipRole:
        return toolTip(row, index.column());
    case Qt::TextAlignmentRole:
        if (index.column() == FramesColumn || index.column() == DurationColumn || index.column() == AttemptsColumn ||
            index.column() == VramColumn)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return QVariant();
    case SceneIdRole:
        return row.sceneId;
    case StatusRole:
        return int(row.status);
    case StatusNameRole:
        return statusName(row.status);
    case ProgressRole:
        return row.progress;
    case ProgressDetailRole:
        return row.progressDetail;
    case FrameCountRole:
        return row.frameCount;
    case FrameFloorRole:
        return row.frameFloor;
    case DurationRole:
        return row.durationSeconds ? QVariant(*row.durationSeconds) : QVariant();
    case AttemptRole:
        return row.attempts;
    case MaxAttemptsRole:
        return row.maxAttempts;
    case LatestFrameRole:
        return row.framePaths.isEmpty() ? QString() : row.framePaths.last();
    case FramePathsRole:
        return row.framePaths;
    case SceneDirRole:
        return m_runDir.isEmpty() ? QString() : QDir(m_runDir).filePath(row.sceneId);
    case TelemetryRole:
        return row.telemetry;
    case ExitReasonRole:
        return row.hasTelemetry ? row.telemetry.value(QStringLiteral("HistoryExitReason")).toString() : QString();
    case DoneMarkerRole:
        return doneMarkerSource(row);
    case ForcedCopyRole:
        return row.telemetry.value(QStringLiteral("ForcedCopyTriggered")).toBool();
    case VramDeltaRole: {
        const auto delta = vramDelta(row);
        return delta ? QVariant(*delta) : QVariant();
    }
    case BadgeLevelRole:
        return int(badgeLevel(row, index.column()));
    case WarningsRole:
        return row.warnings;
    case ErrorsRole:
        return row.errors;
    case HasWarningRole:
        return !row.warnings.isEmpty();
    default:
        return QVariant();
    }
}

QHash<int, QByteArray> SceneTableModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractTableModel::roleNames();
    names.insert(SceneIdRole, "sceneId");
    names.insert(StatusRole, "status");
    names.insert(StatusNameRole, "statusName");
    names.insert(ProgressRole, "progress");
    names.insert(ProgressDetailRole, "progressDetail");
    names.insert(FrameCountRole, "frameCount");
    names.insert(FrameFloorRole, "frameFloor");
    names.insert(DurationRole, "durationSeconds");
    names.insert(AttemptRole, "attempts");
    names.insert(MaxAttemptsRole, "maxAttempts");
    names.insert(LatestFrameRole, "latestFrame");
    names.insert(FramePathsRole, "framePaths");
    names.insert(SceneDirRole, "sceneDir");
    names.insert(TelemetryRole, "telemetry");
    names.insert(ExitReasonRole, "exitReason");
    names.insert(DoneMarkerRole, "doneMarker");
    names.insert(ForcedCopyRole, "forcedCopy");
    names.insert(VramDeltaRole, "vramDeltaMB");
    names.insert(BadgeLevelRole, "badgeLevel");
    names.insert(WarningsRole, "warnings");
    names.insert(ErrorsRole, "errors");
    names.insert(HasWarningRole, "hasWarning");
    return names;
}

} // namespace gd::pipeline
