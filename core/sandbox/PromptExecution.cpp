#include "sandbox/PromptExecution.h"

#include "sandbox/FrameRenderer.h"
#include "sandbox/MiniMp4Writer.h"
#include "sandbox/PngText.h"
#include "sandbox/PromptValidator.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <cstdio>
#include <unistd.h>

namespace gd::sandbox {

namespace {
const QString kOomMessage =
    QStringLiteral("Allocation on device \nThis error means you ran out of memory on your GPU.\n\n"
                   "TIPS: If the workflow worked before you might have accidentally set the batch_size to a "
                   "large number.\n");

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

bool isImageSaver(const QString& cls)
{
    return cls == QLatin1String("SaveImage") || cls == QLatin1String("PreviewImage") ||
           cls == QLatin1String("GemDirectSaveFrames");
}

QJsonObject fileEntry(const QString& name, const QString& subfolder, const QString& type)
{
    return QJsonObject{{QStringLiteral("filename"), name},
                       {QStringLiteral("subfolder"), subfolder},
                       {QStringLiteral("type"), type}};
}
} // namespace

PromptExecution::PromptExecution(QueueItem item, const SandboxConfig& config, const NodeCatalog& catalog,
                                 ExecutionCache* cache, ExecutionFaults faults, QObject* parent)
    : QObject(parent), m_item(std::move(item)), m_config(config), m_catalog(catalog), m_cache(cache),
      m_faults(faults), m_graph(m_item.prompt, catalog, config.inputDir)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &PromptExecution::runNext);
}

void PromptExecution::start()
{
    m_subtitle = m_graph.positivePrompt();
    m_seed = m_graph.seed();
    m_storyboard.emplace(m_graph, m_config.inputDir);
    QStringList ids = m_item.prompt.keys();
    std::sort(ids.begin(), ids.end(), PromptValidator::nodeIdLess);
    for (const QString& id : ids) {
        const QByteArray sig = m_graph.signature(id);
        if (!sig.isEmpty() && m_cache->contains(sig))
            m_cachedAtStart << id;
    }
    auto isCached = [this](const QString& id) { return m_cachedAtStart.contains(id); };
    const QStringList order = m_graph.executionOrder(m_item.outputs, isCached);
    for (const QString& id : order) {
        if (!isCached(id) && m_graph.samplerSteps(id) > 0) {
            m_midRunNode = id;
            break;
        }
    }
    if (m_midRunNode.isEmpty())
        for (const QString& id : order)
            if (!isCached(id) && m_item.outputs.contains(id)) {
                m_midRunNode = id;
                break;
            }

    m_steps.append(
        {0, [this]() {
             addMessage(QStringLiteral("execution_start"), {{QStringLiteral("prompt_id"), m_item.promptId}});
             QJsonArray cached;
             for (const QString& id : std::as_const(m_cachedAtStart))
                 cached.append(id);
             addMessage(QStringLiteral("execution_cached"),
                        {{QStringLiteral("nodes"), cached}, {QStringLiteral("prompt_id"), m_item.promptId}});
         }});
    for (const QString& id : order)
        planNode(id);
    m_steps.append({0, [this]() {
                        addMessage(QStringLiteral("execution_success"),
                                   {{QStringLiteral("prompt_id"), m_item.promptId}});
                    }});
    m_steps.append({m_config.historyWriteDelayMs, [this]() { finishWith(QStringLiteral("success")); }});
    m_next = 0;
    m_timer.start(0);
}

void PromptExecution::planNode(const QString& id)
{
    const QString cls = m_graph.classOf(id);
    if (m_cachedAtStart.contains(id)) {
        // A cached node is not executed: the owner gets `executed` with the stored UI (possibly null), no
        // `executing`.
        m_steps.append({0, [this, id]() {
                            const QJsonValue ui = m_cache->value(m_graph.signature(id));
                            m_usedSignatures.insert(m_graph.signature(id));
                            addMessage(QStringLiteral("executed"),
                                       {{QStringLiteral("node"), id},
                                        {QStringLiteral("display_node"), id},
                                        {QStringLiteral("output"), ui},
                                        {QStringLiteral("prompt_id"), m_item.promptId}},
                                       false);
                            if (ui.isObject()) {
                                m_outcome.outputs.insert(id, ui);
                                m_outcome.meta.insert(id, nodeMeta(id));
                            }
                            progressFinish(id);
                        }});
        return;
    }
    m_steps.append({m_config.nodeDelayMs, [this, id]() {
                        progressStart(id);
                        m_lastNode = id;
                        addMessage(QStringLiteral("executing"),
                                   {{QStringLiteral("node"), id},
                                    {QStringLiteral("display_node"), id},
                                    {QStringLiteral("prompt_id"), m_item.promptId}},
                                   false);
                        if (id == m_midRunNode && m_graph.samplerSteps(id) == 0)
                            fireMidRun(id);
                        if (m_done)
                            return;
                        // before_node_execution(): the interrupt flag is checked before the node function
                        // runs
                        if (checkInterrupt(id))
                            return;
                        if (m_item.outputs.contains(id))
                            prepareOutput(id);
                    }});
    const int steps = m_graph.samplerSteps(id);
    for (int i = 1; i <= steps; ++i) {
        m_steps.append({m_config.stepDelayMs, [this, id, i, steps]() {
                            if (checkInterrupt(id))
                                return;
                            progressUpdate(id, i, steps);
                            addMessage(QStringLiteral("progress"),
                                       {{QStringLiteral("value"), i},
                                        {QStringLiteral("max"), steps},
                                        {QStringLiteral("prompt_id"), m_item.promptId},
                                        {QStringLiteral("node"), id}},
                                       false);
                            if (id == m_midRunNode && i == qMax(1, steps / 2))
                                fireMidRun(id);
                        }});
    }
    if (m_item.outputs.contains(id)) {
        const int frames = qMin(m_config.maxFrames, m_graph.frameCount(id));
        const int planned =
            m_faults.zeroFrames
                ? 0
                : (m_faults.fewFrames >= 0 ? qMin(m_config.maxFrames, m_faults.fewFrames) : frames);
        for (int k = 0; k < planned; ++k)
            m_steps.append({k > 0 ? m_faults.slowFramesMs : 0, [this, k]() { writeFrame(k); }});
        m_steps.append({0, [this]() { finalizeOutput(); }});
    }
    m_steps.append({0, [this, id, cls]() {
                        progressFinish(id);
                        m_executed << id;
                        const QByteArray sig = m_graph.signature(id);
                        if (!sig.isEmpty()) {
                            m_usedSignatures.insert(sig);
                            m_cache->insert(sig, m_outcome.outputs.value(id));
                        }
                    }});
}

void PromptExecution::runNext()
{
    while (!m_done && m_next < m_steps.size()) {
        const Step step = m_steps.at(m_next++);
        step.run();
        if (m_done || m_next >= m_steps.size())
            return;
        const int delay = m_steps.at(m_next).delayMs;
        if (delay > 0) {
            m_timer.start(delay);
            return;
        }
        // Even zero-delay steps yield to the event loop so HTTP requests are answered between them.
        m_timer.start(0);
        return;
    }
}

void PromptExecution::addMessage(const QString& type, QJsonObject data, bool record)
{
    if (record) {
        // PromptExecutor.add_message: timestamp added, recorded for history's status.messages
        data.insert(QStringLiteral("timestamp"), nowMs());
        m_outcome.messages.append(QJsonArray{type, data});
    }
    Q_EMIT event(type, data);
}

void PromptExecution::sendProgressState()
{
    QJsonObject nodes;
    for (const QString& id : std::as_const(m_progressOrder))
        nodes.insert(id, m_progress.value(id));
    Q_EMIT event(QStringLiteral("progress_state"),
                 {{QStringLiteral("prompt_id"), m_item.promptId}, {QStringLiteral("nodes"), nodes}});
}

void PromptExecution::progressStart(const QString& nodeId)
{
    progressUpdate(nodeId, -1, -1);
}

void PromptExecution::progressUpdate(const QString& nodeId, int value, int max)
{
    if (!m_progress.contains(nodeId))
        m_progressOrder << nodeId;
    m_progress.insert(nodeId,
                      progressEntry(nodeId, value < 0 ? 0.0 : double(value), max < 0 ? 1.0 : double(max)));
    sendProgressState();
}

QJsonObject PromptExecution::progressEntry(const QString& nodeId, double value, double max) const
{
    return QJsonObject{{QStringLiteral("value"), value},
                       {QStringLiteral("max"), max},
                       {QStringLiteral("state"), QStringLiteral("running")},
                       {QStringLiteral("node_id"), nodeId},
                       {QStringLiteral("prompt_id"), m_item.promptId},
                       {QStringLiteral("display_node_id"), nodeId},
                       {QStringLiteral("parent_node_id"), QJsonValue()},
                       {QStringLiteral("real_node_id"), nodeId}};
}

void PromptExecution::progressFinish(const QString& nodeId)
{
    // A cached node goes straight from pending to finished (ensure_entry + finish_progress): one message.
    QJsonObject entry = m_progress.value(nodeId, progressEntry(nodeId, 0.0, 1.0));
    if (!m_progress.contains(nodeId))
        m_progressOrder << nodeId;
    entry.insert(QStringLiteral("state"), QStringLiteral("finished"));
    entry.insert(QStringLiteral("value"), entry.value(QStringLiteral("max")).toDouble(1.0));
    m_progress.insert(nodeId, entry);
    sendProgressState();
}

void PromptExecution::interrupt()
{
    m_interruptFlag = true;
}

bool PromptExecution::checkInterrupt(const QString& nodeId)
{
    if (!m_interruptFlag)
        return false;
    QJsonArray executed;
    for (const QString& id : std::as_const(m_executed))
        executed.append(id);
    addMessage(QStringLiteral("execution_interrupted"),
               {{QStringLiteral("prompt_id"), m_item.promptId},
                {QStringLiteral("node_id"), nodeId},
                {QStringLiteral("node_type"), m_graph.classOf(nodeId)},
                {QStringLiteral("executed"), executed}});
    finishWith(QStringLiteral("interrupted"));
    return true;
}

void PromptExecution::raiseError(const QString& nodeId, const QString& exceptionType, const QString& message)
{
    QJsonArray executed;
    for (const QString& id : std::as_const(m_executed))
        executed.append(id);
    QJsonArray currentOutputs;
    for (const QString& id : std::as_const(m_cachedAtStart))
        currentOutputs.append(id);
    QJsonObject currentInputs;
    const QJsonObject inputs = m_graph.inputsOf(nodeId);
    for (auto it = inputs.begin(); it != inputs.end(); ++it) {
        if (it.value().isArray())
            currentInputs.insert(it.key(), QJsonArray{QStringLiteral("<sandbox tensor from node %1>")
                                                          .arg(it.value().toArray().at(0).toString())});
        else
            currentInputs.insert(it.key(), QJsonArray{it.value()});
    }
    const QString cls = m_graph.classOf(nodeId);
    const QJsonArray traceback{
        QStringLiteral(
            "  File \"/ComfyUI/execution.py\", line 496, in execute\n"
            "    output_data, output_ui, has_subgraph, has_pending_tasks = await get_output_data(...)\n"),
        QStringLiteral("  File \"/ComfyUI/execution.py\", line 315, in _async_map_node_over_list\n"
                       "    await process_inputs(input_dict, i)\n"),
        QStringLiteral("  File \"/ComfyUI/nodes.py\", line 1, in %1\n    raise %2(...)\n")
            .arg(cls, exceptionType)};
    // The message is "<str(exc)>\n<tips>", so it always ends with a newline.
    addMessage(QStringLiteral("execution_error"),
               {{QStringLiteral("prompt_id"), m_item.promptId},
                {QStringLiteral("node_id"), nodeId},
                {QStringLiteral("node_type"), cls},
                {QStringLiteral("executed"), executed},
                {QStringLiteral("exception_message"),
                 message.endsWith(QLatin1Char('\n')) ? message : message + QLatin1Char('\n')},
                {QStringLiteral("exception_type"), exceptionType},
                {QStringLiteral("traceback"), traceback},
                {QStringLiteral("current_inputs"), currentInputs},
                {QStringLiteral("current_outputs"), currentOutputs}});
    finishWith(QStringLiteral("error"));
}

void PromptExecution::fireMidRun(const QString& nodeId)
{
    if (m_faults.interrupt)
        m_interruptFlag = true;
    Q_EMIT midRun();
    if (m_done)
        return;
    if (m_faults.oom)
        raiseError(nodeId, QStringLiteral("torch.OutOfMemoryError"), kOomMessage);
    else if (m_faults.executionError)
        raiseError(nodeId, QStringLiteral("Exception"),
                   QStringLiteral("Sandbox fault injection: %1 failed at node %2")
                       .arg(m_graph.classOf(nodeId), nodeId));
}

void PromptExecution::finishWith(const QString& result)
{
    if (m_done)
        return;
    m_done = true;
    m_timer.stop();
    // Classic cache: only what this prompt used survives (clean_unused).
    for (auto it = m_cache->begin(); it != m_cache->end();) {
        if (!m_usedSignatures.contains(it.key()))
            it = m_cache->erase(it);
        else
            ++it;
    }
    m_outcome.result = result;
    Q_EMIT finished(m_outcome);
}

void PromptExecution::abandon()
{
    m_done = true;
    m_timer.stop();
}

QJsonObject PromptExecution::nodeMeta(const QString& nodeId) const
{
    return QJsonObject{{QStringLiteral("node_id"), nodeId},
                       {QStringLiteral("display_node"), nodeId},
                       {QStringLiteral("parent_node"), QJsonValue()},
                       {QStringLiteral("real_node_id"), nodeId}};
}

bool PromptExecution::prepareOutput(const QString& nodeId)
{
    OutputState out;
    out.nodeId = nodeId;
    out.cls = m_graph.classOf(nodeId);
    out.fps = m_graph.fps(nodeId);
    QString prefix = m_graph.filenamePrefix(nodeId);
    QString baseDir = m_config.outputDir;
    if (out.cls == QLatin1String("PreviewImage")) {
        // PreviewImage saves into temp with a random 5-letter suffix on "ComfyUI_temp_".
        QString suffix;
        for (int i = 0; i < 5; ++i)
            suffix += QLatin1Char(char('a' + QRandomGenerator::global()->bounded(26)));
        prefix = QStringLiteral("ComfyUI_temp_") + suffix;
        baseDir = m_config.tempDir;
        out.type = QStringLiteral("temp");
    } else if (out.cls == QLatin1String("VHS_VideoCombine") &&
               !m_graph.inputsOf(nodeId).value(QStringLiteral("save_output")).toBool(true)) {
        baseDir = m_config.tempDir;
        out.type = QStringLiteral("temp");
    }
    if (prefix.isEmpty())
        prefix = QStringLiteral("ComfyUI");
    QDir().mkpath(baseDir);
    QString error;
    const auto target = OutputNaming::resolve(baseDir, prefix, m_config.frameSize.width(),
                                              m_config.frameSize.height(), &error);
    if (!target) {
        raiseError(nodeId, QStringLiteral("Exception"), error);
        return false;
    }
    out.target = *target;
    m_output = out;
    return true;
}

bool PromptExecution::writeFile(const QString& path, const QByteArray& bytes, const QString& nodeId)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(bytes) != bytes.size()) {
        raiseError(nodeId, QStringLiteral("OSError"),
                   QStringLiteral("[Errno 5] cannot write '%1': %2").arg(path, f.errorString()));
        return false;
    }
    return true;
}

bool PromptExecution::writeFrame(int index)
{
    if (!m_output)
        return false;
    OutputState& out = *m_output;
    const int planned =
        m_faults.zeroFrames
            ? 0
            : (m_faults.fewFrames >= 0 ? qMin(m_config.maxFrames, m_faults.fewFrames)
                                       : qMin(m_config.maxFrames, m_graph.frameCount(out.nodeId)));
    out.frames = planned;
    FrameLabel label;
    label.title = GraphInspector::titleFromPrefix(m_graph.filenamePrefix(out.nodeId));
    label.subtitle = m_subtitle;
    label.frameNumber = index + 1;
    label.frameCount = planned;
    label.seed = m_seed;
    const bool storyboard = m_storyboard && m_storyboard->kind() != StoryboardFrameRenderer::Kind::None;
    QByteArray png =
        m_config.reuseFrames && !storyboard
            ? FrameRenderer::reusablePng(label.frameNumber, label.frameCount, m_config.frameSize)
            : FrameRenderer::encodePng(storyboard ? m_storyboard->render(label, m_config.frameSize)
                                                  : FrameRenderer::render(label, m_config.frameSize));
    if (!isImageSaver(out.cls)) {
        out.pngs.append(png);
        return true;
    }
    // ComfyUI's SaveImage writes the API graph into every frame as PNG tEXt "prompt" (json.dumps); the
    // sandbox does the same. The sandbox vision model reads it back to caption the frame (SandboxVision).
    png = PngText::withText(png, QByteArrayLiteral("prompt"),
                            PngText::asciiJson(QJsonDocument(m_item.prompt).toJson(QJsonDocument::Compact)));
    if (m_faults.truncatedFrame && index == planned / 2)
        png.truncate(png.size() / 2);
    const QString name = OutputNaming::imageFileName(out.target.basename, out.target.counter + index);
    if (!writeFile(QDir(out.target.fullFolder).filePath(name), png, out.nodeId))
        return false;
    out.frameFiles << name;
    out.images.append(fileEntry(name, out.target.subfolder, out.type));
    return true;
}

bool PromptExecution::finalizeOutput()
{
    if (!m_output)
        return false;
    OutputState out = *m_output;
    m_output.reset();
    const QDir dir(out.target.fullFolder);
    QJsonObject ui;
    if (out.cls == QLatin1String("SaveImage") || out.cls == QLatin1String("PreviewImage")) {
        ui.insert(QStringLiteral("images"), out.images);
    } else if (out.cls == QLatin1String("GemDirectSaveFrames")) {
        const QString markerName = out.target.basename + QStringLiteral(".done");
        if (!m_faults.missingMarker) {
            QJsonArray frames;
            for (const QString& f : std::as_const(out.frameFiles))
                frames.append(f);
            const QJsonObject marker{
                {QStringLiteral("job_id"),
                 m_graph.inputsOf(out.nodeId).value(QStringLiteral("job_id")).toString()},
                {QStringLiteral("prompt_id"), m_item.promptId},
                {QStringLiteral("node_id"), out.nodeId},
                {QStringLiteral("frames"), frames},
                {QStringLiteral("count"), int(frames.size())},
                {QStringLiteral("subfolder"), out.target.subfolder},
                {QStringLiteral("width"), m_config.frameSize.width()},
                {QStringLiteral("height"), m_config.frameSize.height()},
                {QStringLiteral("fps"), out.fps},
                {QStringLiteral("finished_at"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)}};
            // Atomic publish exactly as the real node: <base>.done.tmp in the same folder, flush, fsync,
            // rename.
            const QString tmpPath = dir.filePath(markerName + QStringLiteral(".tmp"));
            const QString finalPath = dir.filePath(markerName);
            QFile tmp(tmpPath);
            const QByteArray bytes = QJsonDocument(marker).toJson(QJsonDocument::Indented);
            if (!tmp.open(QIODevice::WriteOnly | QIODevice::Truncate) || tmp.write(bytes) != bytes.size() ||
                !tmp.flush() || ::fsync(tmp.handle()) != 0) {
                raiseError(out.nodeId, QStringLiteral("OSError"),
                           QStringLiteral("cannot write %1: %2").arg(tmpPath, tmp.errorString()));
                return false;
            }
            tmp.close();
            if (std::rename(QFile::encodeName(tmpPath).constData(),
                            QFile::encodeName(finalPath).constData()) != 0) {
                QFile::remove(tmpPath);
                raiseError(out.nodeId, QStringLiteral("OSError"),
                           QStringLiteral("cannot rename %1 to %2").arg(tmpPath, finalPath));
                return false;
            }
        }
        ui.insert(QStringLiteral("images"), out.images);
        ui.insert(QStringLiteral("done_marker"),
                  QJsonArray{fileEntry(markerName, out.target.subfolder, QStringLiteral("output"))});
    } else if (out.cls == QLatin1String("SaveVideo")) {
        QJsonArray images;
        QByteArray video =
            MiniMp4Writer::build(out.pngs, m_config.frameSize.width(), m_config.frameSize.height(), out.fps);
        if (!video.isEmpty()) {
            if (m_faults.truncatedFrame)
                video.truncate(video.size() / 2);
            const QString name =
                OutputNaming::fileName(out.target.basename, out.target.counter, QStringLiteral("mp4"));
            if (!writeFile(dir.filePath(name), video, out.nodeId))
                return false;
            images.append(fileEntry(name, out.target.subfolder, out.type));
        }
        ui.insert(QStringLiteral("images"), images);
        ui.insert(QStringLiteral("animated"), QJsonArray{true});
    } else if (out.cls == QLatin1String("VHS_VideoCombine")) {
        QJsonArray gifs;
        QByteArray video =
            MiniMp4Writer::build(out.pngs, m_config.frameSize.width(), m_config.frameSize.height(), out.fps);
        if (!video.isEmpty()) {
            if (m_faults.truncatedFrame)
                video.truncate(video.size() / 2);
            const int counter = OutputNaming::nextVhsCounter(out.target.fullFolder, out.target.basename);
            const QString pngName =
                OutputNaming::vhsFileName(out.target.basename, counter, QStringLiteral("png"));
            const QString name =
                OutputNaming::vhsFileName(out.target.basename, counter, QStringLiteral("mp4"));
            if (!writeFile(dir.filePath(pngName), out.pngs.first(), out.nodeId) ||
                !writeFile(dir.filePath(name), video, out.nodeId))
                return false;
            QJsonObject entry = fileEntry(name, out.target.subfolder, out.type);
            entry.insert(QStringLiteral("format"), m_graph.inputsOf(out.nodeId)
                                                       .value(QStringLiteral("format"))
                                                       .toString(QStringLiteral("video/h264-mp4")));
            entry.insert(QStringLiteral("frame_rate"), out.fps);
            entry.insert(QStringLiteral("workflow"), pngName);
            entry.insert(QStringLiteral("fullpath"), dir.filePath(name));
            gifs.append(entry);
        }
        ui.insert(QStringLiteral("gifs"), gifs);
    }
    ui = applyHostileFaults(ui);
    m_outcome.outputs.insert(out.nodeId, ui);
    m_outcome.meta.insert(out.nodeId, nodeMeta(out.nodeId));
    addMessage(QStringLiteral("executed"),
               {{QStringLiteral("node"), out.nodeId},
                {QStringLiteral("display_node"), out.nodeId},
                {QStringLiteral("output"), ui},
                {QStringLiteral("prompt_id"), m_item.promptId}},
               false);
    return true;
}

QJsonObject PromptExecution::applyHostileFaults(QJsonObject ui) const
{
    if (!m_faults.hostileFilename && m_faults.hostileSubfolder < 0)
        return ui;
    for (auto it = ui.begin(); it != ui.end(); ++it) {
        if (!it.value().isArray())
            continue;
        QJsonArray list = it.value().toArray();
        for (qsizetype i = 0; i < list.size(); ++i) {
            QJsonObject entry = list.at(i).toObject();
            if (!entry.contains(QStringLiteral("filename")))
                continue;
            if (m_faults.hostileFilename && it.key() != QLatin1String("done_marker"))
                entry.insert(QStringLiteral("filename"), QStringLiteral("../../escape.png"));
            if (m_faults.hostileSubfolder >= 0)
                entry.insert(QStringLiteral("subfolder"), m_faults.hostileSubfolder == 1
                                                              ? QStringLiteral("../..")
                                                              : QStringLiteral("/etc"));
            list[i] = entry;
        }
        it.value() = list;
    }
    return ui;
}

} // namespace gd::sandbox
