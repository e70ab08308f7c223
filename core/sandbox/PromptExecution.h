#pragma once

#include "sandbox/GraphInspector.h"
#include "sandbox/NodeCatalog.h"
#include "sandbox/OutputNaming.h"
#include "sandbox/PromptQueue.h"
#include "sandbox/SandboxConfig.h"
#include "sandbox/StoryboardFrameRenderer.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QSet>
#include <QTimer>
#include <QVector>
#include <functional>
#include <optional>

namespace gd::sandbox {

// Node outputs kept between prompts, keyed by GraphInspector::signature; the value is the node's UI dict (or
// null).
using ExecutionCache = QHash<QByteArray, QJsonValue>;

// Faults that act inside one prompt's execution (FaultRule kinds resolved for this prompt).
struct ExecutionFaults
{
    bool executionError = false;
    bool oom = false;
    bool interrupt = false;
    bool missingMarker = false;
    bool zeroFrames = false;
    int fewFrames = -1; // >= 0: output nodes write this many frames
    int slowFramesMs = 0;
    bool hostileFilename = false;
    int hostileSubfolder = -1; // 0: "/etc", 1: "../.."
    bool truncatedFrame = false;
};

// How a prompt ended, for history and the server's bookkeeping.
struct ExecutionOutcome
{
    QString result;      // "success" | "error" | "interrupted"
    QJsonArray messages; // [[event, data], ...] of the execution_* events, as history records them
    QJsonObject outputs; // node id -> UI dict (executed and cached output nodes)
    QJsonObject meta;    // node id -> {node_id, display_node, parent_node, real_node_id}
};

// Fakes the execution of one prompt on the server's event loop, one timer step at a time (so HTTP and
// WebSocket stay responsive): the §5.4 event sequence, KSampler progress, frame files written by the save
// nodes, cache replay, interrupt checks at each step and before each node, and the in-run faults. Routing of
// events is the server's job.
class PromptExecution : public QObject
{
    Q_OBJECT
public:
    PromptExecution(QueueItem item, const SandboxConfig& config, const NodeCatalog& catalog,
                    ExecutionCache* cache, ExecutionFaults faults, QObject* parent = nullptr);

    void start();
    void interrupt(); // nodes.interrupt_processing(): noticed at the next sampler step or node start
    void abandon();   // the server went away (restart/die): stop silently, no outcome
    const QueueItem& item() const { return m_item; }
    QString lastNodeId() const { return m_lastNode; }

Q_SIGNALS:
    void event(const QString& type, const QJsonObject& data);
    void midRun(); // halfway through the sampler (or at the first output node): server-level faults act here
    void finished(const gd::sandbox::ExecutionOutcome& outcome);

private:
    struct Step
    {
        int delayMs = 0;
        std::function<void()> run;
    };
    struct OutputState
    {
        QString nodeId;
        QString cls;
        SaveTarget target;
        QString type = QStringLiteral("output");
        int frames = 0;
        double fps = 24.0;
        QJsonArray images;
        QStringList frameFiles;
        QVector<QByteArray> pngs;
    };

    void runNext();
    void addMessage(const QString& type, QJsonObject data, bool record = true);
    void sendProgressState();
    void progressStart(const QString& nodeId);
    void progressUpdate(const QString& nodeId, int value, int max);
    void progressFinish(const QString& nodeId);
    QJsonObject progressEntry(const QString& nodeId, double value, double max) const;
    bool checkInterrupt(const QString& nodeId);
    void raiseError(const QString& nodeId, const QString& exceptionType, const QString& message);
    void finishWith(const QString& result);
    void planNode(const QString& nodeId);
    void fireMidRun(const QString& nodeId);
    bool prepareOutput(const QString& nodeId);
    bool writeFrame(int index);
    bool finalizeOutput();
    bool writeFile(const QString& path, const QByteArray& bytes, const QString& nodeId);
    QJsonObject applyHostileFaults(QJsonObject ui) const;
    QJsonObject nodeMeta(const QString& nodeId) const;

    QueueItem m_item;
    SandboxConfig m_config;
    const NodeCatalog& m_catalog;
    ExecutionCache* m_cache;
    ExecutionFaults m_faults;
    GraphInspector m_graph;
    QTimer m_timer;
    QVector<Step> m_steps;
    int m_next = 0;
    bool m_done = false;
    bool m_interruptFlag = false;
    QString m_lastNode;
    QString m_midRunNode;
    QStringList m_executed;
    QStringList m_cachedAtStart;
    QSet<QByteArray> m_usedSignatures;
    QStringList m_progressOrder;
    QHash<QString, QJsonObject> m_progress;
    ExecutionOutcome m_outcome;
    std::optional<OutputState> m_output;
    QString m_subtitle;
    quint32 m_seed = 0;
    // Storyboard image graphs (sheets, keyframes, image-to-video) render through this instead of
    // FrameRenderer.
    std::optional<StoryboardFrameRenderer> m_storyboard;
};

} // namespace gd::sandbox

Q_DECLARE_METATYPE(gd::sandbox::ExecutionOutcome)
