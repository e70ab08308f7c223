#pragma once

#include "pipeline/SceneAttempt.h"
#include "telemetry/RunModel.h"

#include <QAbstractTableModel>
#include <QJsonObject>
#include <QPointer>
#include <QStringList>
#include <QVector>
#include <optional>

namespace gd::pipeline {

class RunController;

// One row per scene of the attached run, kept current from RunController's signals: status,
// progress, frames against the floor, duration, attempts, latest frame, the attempt's telemetry
// badges and its warnings/errors. QtCore only: the watcher panel decides colours and pixels.
//
// Columns (Column enum) carry display text and a tooltip for every cell. Custom roles, valid on
// any column of a row:
//   SceneIdRole        QString      scene id (scene-001)
//   StatusRole         int          SceneStatus
//   StatusNameRole     QString      queued|submitted|running|collecting|done|requeued|failed|cancelled
//   ProgressRole       double       0..1; ComfyUI progress (20 % node share, 80 % sampler steps),
//                                   1 once the scene is done
//   ProgressDetailRole QString      "node 5 step 12" as the attempt reports it
//   FrameCountRole     int          frames of the kept (or latest finished) attempt
//   FrameFloorRole     int
//   DurationRole       double       seconds of that attempt; invalid QVariant while unknown
//   AttemptRole        int          attempts started so far
//   MaxAttemptsRole    int          attempts the retry budget allows now
//   LatestFrameRole    QString      absolute path of the newest collected frame; empty when none
//   FramePathsRole     QStringList  absolute paths of that attempt's collected frames, in order
//   SceneDirRole       QString      absolute <run>/<SceneId> folder
//   TelemetryRole      QJsonObject  the attempt's §3.3 Telemetry object as the artifact writes it
//   ExitReasonRole     QString      HistoryExitReason; empty before the first attempt finished
//   DoneMarkerRole     QString      how the frames were taken: producer|stability|forced|""
//   ForcedCopyRole     bool
//   VramDeltaRole      double       VramDeltaMB; invalid QVariant when the GPU was not measured
//   BadgeLevelRole     int          BadgeLevel of this column's badge (Status, Frames, Exit,
//                                   Marker, ForcedCopy, Vram columns); Neutral elsewhere
//   WarningsRole       QStringList  warnings and fallback notes (the yellow row)
//   ErrorsRole         QStringList
//   HasWarningRole     bool         any warning or fallback note
class SceneTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum class SceneStatus
    {
        Queued,
        Submitted,
        Running,
        Collecting,
        Done,
        Requeued,
        Failed,
        Cancelled
    };
    Q_ENUM(SceneStatus)

    // Neutral: nothing to judge; Good/Notice/Bad map to green/amber/red, Unknown to grey.
    enum class BadgeLevel
    {
        Neutral,
        Good,
        Notice,
        Bad,
        Unknown
    };
    Q_ENUM(BadgeLevel)

    enum Column
    {
        SceneColumn,
        StatusColumn,
        ProgressColumn,
        FramesColumn,
        DurationColumn,
        AttemptsColumn,
        PreviewColumn,
        ExitReasonColumn,
        DoneMarkerColumn,
        ForcedCopyColumn,
        VramColumn,
        NotesColumn,
        ColumnCount
    };

    enum Role
    {
        SceneIdRole = Qt::UserRole + 1,
        StatusRole,
        StatusNameRole,
        ProgressRole,
        ProgressDetailRole,
        FrameCountRole,
        FrameFloorRole,
        DurationRole,
        AttemptRole,
        MaxAttemptsRole,
        LatestFrameRole,
        FramePathsRole,
        SceneDirRole,
        TelemetryRole,
        ExitReasonRole,
        DoneMarkerRole,
        ForcedCopyRole,
        VramDeltaRole,
        BadgeLevelRole,
        WarningsRole,
        ErrorsRole,
        HasWarningRole
    };

    // VRAM delta thresholds: the quality KPI limit (quality-kpis.md, |VramDeltaMB| ≤ 18 432 MB) is
    // red; half of it is "large" (amber) — a scene that takes that much leaves little headroom.
    static constexpr double kVramLimitMB = 18432;
    static constexpr double kVramLargeMB = kVramLimitMB / 2;

    explicit SceneTableModel(QObject* parent = nullptr);

    // Follows this controller (rows appear when its run directory exists; attaching later fills
    // them from its record). Detaches from the previous one; nullptr clears the table.
    void attach(RunController* controller);
    RunController* controller() const;
    QString runDir() const { return m_runDir; }
    int rowOf(const QString& sceneId) const;

    static QString statusName(SceneStatus status);
    static BadgeLevel vramLevel(std::optional<double> deltaMB);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

private:
    struct Row
    {
        QString sceneId;
        QString title;
        SceneStatus status = SceneStatus::Queued;
        double progress = 0;
        QString progressDetail;
        int frameCount = 0;
        int frameFloor = 25;
        std::optional<double> durationSeconds;
        int attempts = 0;
        int maxAttempts = 0;
        QStringList framePaths; // absolute
        bool hasTelemetry = false;
        QJsonObject telemetry;
        QStringList warnings;
        QStringList errors;
    };

    void resetFromRecord();
    void onAttemptStarted(const QString& sceneId, int attempt, int maxAttempts);
    void onAttemptState(const QString& sceneId, SceneAttempt::State state);
    void onSceneState(const QString& sceneId, const QString& state);
    void onProgress(const QString& sceneId, double fraction, const QString& detail);
    void onAttemptFinished(const QString& sceneId, const telemetry::AttemptRecord& attempt);
    void onSceneFinished(const telemetry::SceneRecord& scene);
    void fillFromAttempt(Row& row, const telemetry::AttemptRecord& attempt) const;
    void fillFromScene(Row& row, const telemetry::SceneRecord& scene) const;
    void changed(int row);
    QVariant display(const Row& row, int column) const;
    QString toolTip(const Row& row, int column) const;
    BadgeLevel badgeLevel(const Row& row, int column) const;
    QString doneMarkerSource(const Row& row) const;
    std::optional<double> vramDelta(const Row& row) const;

    QPointer<RunController> m_controller;
    QString m_runDir;
    QVector<Row> m_rows;
};

} // namespace gd::pipeline
