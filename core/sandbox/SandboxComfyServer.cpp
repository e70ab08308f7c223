#include "sandbox/SandboxComfyServer.h"

#include "net/MiniHttpServer.h"
#include "sandbox/MultipartFormData.h"
#include "sandbox/PromptValidator.h"
#include "sandbox/PyJson.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMutexLocker>
#include <QTimer>
#include <QUrlQuery>
#include <QUuid>
#include <QWebSocket>

namespace gd::sandbox {

namespace {

const QStringList kOwnerOnlyEvents{QStringLiteral("execution_start"),   QStringLiteral("execution_cached"),
                                   QStringLiteral("executing"),         QStringLiteral("executed"),
                                   QStringLiteral("execution_success"), QStringLiteral("execution_error")};

// aiohttp answers an unhandled exception in a handler with this page.
net::HttpResponse internalError()
{
    return net::HttpResponse::text(500, "500 Internal Server Error\n\nServer got itself in trouble");
}

std::optional<QJsonValue> parseJsonBody(const QByteArray& body)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError)
        return std::nullopt;
    if (doc.isObject())
        return QJsonValue(doc.object());
    return QJsonValue(doc.array());
}

QByteArray mimeTypeFor(const QString& fileName)
{
    const QString ext = QFileInfo(fileName).suffix().toLower();
    static const QHash<QString, QByteArray> types{
        {QStringLiteral("png"), "image/png"},
        {QStringLiteral("jpg"), "image/jpeg"},
        {QStringLiteral("jpeg"), "image/jpeg"},
        {QStringLiteral("webp"), "image/webp"},
        {QStringLiteral("gif"), "image/gif"},
        {QStringLiteral("bmp"), "image/bmp"},
        {QStringLiteral("mp4"), "video/mp4"},
        {QStringLiteral("webm"), "video/webm"},
        {QStringLiteral("mov"), "video/quicktime"},
        {QStringLiteral("json"), "application/json"},
        {QStringLiteral("txt"), "text/plain"},
        {QStringLiteral("wav"), "audio/x-wav"},
        {QStringLiteral("mp3"), "audio/mpeg"},
        {QStringLiteral("flac"), "audio/flac"},
        // served as downloads only, like the real server forces for these
        {QStringLiteral("html"), "application/octet-stream"},
        {QStringLiteral("htm"), "application/octet-stream"},
        {QStringLiteral("js"), "application/octet-stream"},
        {QStringLiteral("css"), "application/octet-stream"},
    };
    return types.value(ext, QByteArrayLiteral("application/octet-stream"));
}

bool isInside(const QString& root, const QString& path)
{
    const QString r = QDir::cleanPath(root);
    const QString p = QDir::cleanPath(path);
    return p == r || p.startsWith(r + QLatin1Char('/'));
}

bool isHttpFault(FaultKind kind)
{
    return kind == FaultKind::MalformedJson || kind == FaultKind::OversizedResponse ||
           kind == FaultKind::SlowLoris;
}

QString wsMessage(const QString& type, const QJsonObject& data)
{
    return QString::fromLatin1("{\"type\": " + PyJson::quote(type) + ", \"data\": " + PyJson::dumps(data) +
                               '}');
}

} // namespace

SandboxComfyServer::SandboxComfyServer(const SandboxConfig& config, QObject* parent)
    : QObject(parent), m_config(config.resolved()), m_catalog(NodeCatalog::builtin()),
      m_http(new net::MiniHttpServer(this))
{
    qRegisterMetaType<gd::sandbox::ExecutionOutcome>();
    if (!m_config.markerNodeInstalled)
        m_catalog.remove(QStringLiteral("GemDirectSaveFrames"));
    for (const FaultRule& rule : std::as_const(m_config.faults))
        addFault(rule);
    for (const QString& dir : {m_config.outputDir, m_config.inputDir, m_config.tempDir})
        QDir().mkpath(dir);
    m_http->setMaxBodyBytes(m_config.maxUploadBytes);
    m_http->setHandler([this](const net::HttpRequest& request) { return handle(request); });
    connect(m_http, &net::MiniHttpServer::webSocketConnected, this, &SandboxComfyServer::onWebSocket);
}

SandboxComfyServer::~SandboxComfyServer()
{
    if (m_execution)
        m_execution->abandon();
    for (QWebSocket* ws : std::as_const(m_allSockets))
        ws->disconnect(this);
}

bool SandboxComfyServer::listen(quint16 port, QString* error)
{
    if (!m_http->listen(port, error))
        return false;
    m_port = m_http->port();
    m_dead = false;
    return true;
}

void SandboxComfyServer::close()
{
    m_http->stopListening();
    m_http->dropHttpConnections();
    const auto sockets = m_allSockets;
    for (QWebSocket* ws : sockets)
        ws->abort();
}

bool SandboxComfyServer::isListening() const
{
    return m_http->isListening();
}

quint16 SandboxComfyServer::port() const
{
    return m_port;
}

QUrl SandboxComfyServer::url() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port));
}

void SandboxComfyServer::addFault(const FaultRule& rule)
{
    m_faults.append({rule, rule.times <= 0 ? -1 : rule.times});
}

void SandboxComfyServer::clearFaults()
{
    m_faults.clear();
}

void SandboxComfyServer::setMarkerNodeInstalled(bool installed)
{
    m_config.markerNodeInstalled = installed;
    m_catalog = NodeCatalog::builtin();
    if (!installed)
        m_catalog.remove(QStringLiteral("GemDirectSaveFrames"));
}

int SandboxComfyServer::promptPostCount() const
{
    QMutexLocker lock(&m_mutex);
    return m_postCount;
}

QJsonObject SandboxComfyServer::lastGraph(const QString& promptId) const
{
    QMutexLocker lock(&m_mutex);
    return m_lastGraphs.value(promptId);
}

QJsonObject SandboxComfyServer::history() const
{
    QMutexLocker lock(&m_mutex);
    QJsonObject out;
    for (const QString& id : m_queue.historyIds())
        out.insert(id, m_queue.historyEntry(id));
    return out;
}

QJsonObject SandboxComfyServer::historyEntry(const QString& promptId) const
{
    QMutexLocker lock(&m_mutex);
    return m_queue.historyEntry(promptId);
}

int SandboxComfyServer::webSocketCount() const
{
    QMutexLocker lock(&m_mutex);
    return int(m_sockets.size());
}

// ---- HTTP routing
// -------------------------------------------------------------------------------------------------

net::HttpResponse SandboxComfyServer::handle(const net::HttpRequest& request)
{
    QString path = request.path;
    if (path.startsWith(QLatin1String("/api/")))
        path = path.mid(4);
    const QByteArray method = request.method == "HEAD" ? QByteArrayLiteral("GET") : request.method;

    QList<QByteArray> allowed;
    auto route = [&](const QList<QByteArray>& methods) {
        allowed = methods;
        return methods.contains(method);
    };
    if (path == QLatin1String("/prompt")) {
        if (route({"GET", "POST"})) {
            if (method == "GET")
                return net::HttpResponse::json(PyJson::dumps(queueInfo()));
            return postPrompt(request);
        }
    } else if (path == QLatin1String("/queue")) {
        if (route({"GET", "POST"}))
            return method == "GET" ? getQueue() : postQueue(request);
    } else if (path == QLatin1String("/history")) {
        if (route({"GET", "POST"}))
            return method == "GET" ? getHistory(request) : postHistory(request);
    } else if (path.startsWith(QLatin1String("/history/")) && path.size() > 9 &&
               !path.mid(9).contains(QLatin1Char('/'))) {
        if (route({"GET"}))
            return historyOf(path.mid(9));
    } else if (path == QLatin1String("/interrupt")) {
        if (route({"POST"}))
            return postInterrupt(request);
    } else if (path == QLatin1String("/free")) {
        if (route({"POST"}))
            return postFree(request);
    } else if (path == QLatin1String("/system_stats")) {
        if (route({"GET"}))
            return systemStats();
    } else if (path == QLatin1String("/features")) {
        if (route({"GET"}))
            return net::HttpResponse::json("{\"supports_preview_metadata\": true, \"max_upload_size\": " +
                                      PyJson::formatFloat(double(m_config.maxUploadBytes)) + '}');
    } else if (path == QLatin1String("/object_info")) {
        if (route({"GET"}))
            return net::HttpResponse::json(PyJson::dumps(m_catalog.objectInfoAll()));
    } else if (path.startsWith(QLatin1String("/object_info/")) && path.size() > 13 &&
               !path.mid(13).contains(QLatin1Char('/'))) {
        if (route({"GET"}))
            return net::HttpResponse::json(PyJson::dumps(m_catalog.objectInfo(path.mid(13))));
    } else if (path == QLatin1String("/view")) {
        if (route({"GET"}))
            return view(request);
    } else if (path == QLatin1String("/upload/image")) {
        if (route({"POST"}))
            return uploadImage(request);
    } else if (path == QLatin1String("/ws")) {
        // Reached only without an Upgrade header: aiohttp's WebSocketResponse.prepare() refuses it.
        if (route({"GET"}))
            return net::HttpResponse::text(400, "400: Bad Request\n\nNo WebSocket UPGRADE hdr: None\n Can "
                                           "\"Upgrade\" only to \"WebSocket\".");
    } else if (path == QLatin1String("/embeddings")) {
        if (route({"GET"}))
            return net::HttpResponse::json("[]");
    } else if (path == QLatin1String("/models")) {
        if (route({"GET"}))
            return net::HttpResponse::json(PyJson::dumps(
                QJsonArray{QStringLiteral("checkpoints"), QStringLiteral("loras"), QStringLiteral("vae"),
                           QStringLiteral("text_encoders"), QStringLiteral("diffusion_models"),
                           QStringLiteral("clip_vision"), QStringLiteral("controlnet"),
                           QStringLiteral("upscale_models"), QStringLiteral("embeddings")}));
    } else {
        return net::HttpResponse::text(404, "404: Not Found");
    }
    net::HttpResponse r = net::HttpResponse::text(405, "405: Method Not Allowed");
    QByteArrayList allowList = allowed;
    if (allowList.contains("GET"))
        allowList.append("HEAD");
    r.setHeader("Allow", allowList.join(','));
    return r;
}

QJsonObject SandboxComfyServer::queueInfo() const
{
    return QJsonObject{
        {QStringLiteral("exec_info"), QJsonObject{{QStringLiteral("queue_remaining"), m_queue.remaining()}}}};
}

net::HttpResponse SandboxComfyServer::postPrompt(const net::HttpRequest& request)
{
    {
        QMutexLocker lock(&m_mutex);
        ++m_postCount;
    }
    const auto parsed = parseJsonBody(request.body);
    if (!parsed || !parsed->isObject())
        return internalError(); // request.json() raising is not caught by the handler
    const QJsonObject json = parsed->toObject();

    QJsonValue number;
    bool numberIsFloat = false;
    if (json.contains(QStringLiteral("number"))) {
        const QJsonValue n = json.value(QStringLiteral("number"));
        bool ok = n.isDouble();
        double d = n.toDouble();
        if (n.isString())
            d = n.toString().trimmed().toDouble(&ok);
        if (!ok)
            return internalError(); // float() raised
        number = QJsonValue(d);
        numberIsFloat = true;
    } else {
        int counter = m_queue.nextNumber();
        if (json.value(QStringLiteral("front")).toBool())
            counter = -counter;
        number = QJsonValue(counter);
    }

    if (!json.contains(QStringLiteral("prompt"))) {
        const QJsonObject error{{QStringLiteral("type"), QStringLiteral("no_prompt")},
                                {QStringLiteral("message"), QStringLiteral("No prompt provided")},
                                {QStringLiteral("details"), QStringLiteral("No prompt provided")},
                                {QStringLiteral("extra_info"), QJsonObject()}};
        return net::HttpResponse::json(
            PyJson::dumpsOrdered({{QStringLiteral("error"), PyJson::dumps(error)},
                                  {QStringLiteral("node_errors"), QByteArrayLiteral("{}")}}),
            400);
    }
    const QJsonValue promptValue = json.value(QStringLiteral("prompt"));
    if (!promptValue.isObject())
        return internalError();
    for (const QJsonValue& node : promptValue.toObject())
        if (!node.isObject())
            return internalError(); // 'class_type' not in <str> raises TypeError in the real server

    std::optional<QStringList> partial;
    if (json.value(QStringLiteral("partial_execution_targets")).isArray()) {
        QStringList targets;
        for (const QJsonValue& v : json.value(QStringLiteral("partial_execution_targets")).toArray())
            targets << PyJson::pyStr(v);
        partial = targets;
    }
    const QString promptId = json.contains(QStringLiteral("prompt_id"))
                                 ? PyJson::pyStr(json.value(QStringLiteral("prompt_id")))
                                 : QUuid::createUuid().toString(QUuid::WithoutBraces);

    const PromptValidator validator(m_catalog, m_config.inputDir);
    const PromptValidation result = validator.validate(promptValue.toObject(), partial);

    QJsonObject extraData = json.value(QStringLiteral("extra_data")).toObject();
    if (json.contains(QStringLiteral("client_id")))
        extraData.insert(QStringLiteral("client_id"), json.value(QStringLiteral("client_id")));

    if (!result.ok) {
        return net::HttpResponse::json(
            PyJson::dumpsOrdered({{QStringLiteral("error"), PyJson::dumps(result.error)},
                                  {QStringLiteral("node_errors"), PyJson::dumps(result.nodeErrors)}}),
            400);
    }
    QueueItem item;
    item.number = number;
    item.numberIsFloat = numberIsFloat;
    item.promptId = promptId;
    item.prompt = result.prompt;
    item.extraData = extraData;
    item.outputs = result.goodOutputs;
    takeHttpFaults(item);
    {
        QMutexLocker lock(&m_mutex);
        m_lastGraphs.insert(promptId, promptValue.toObject());
        m_queue.put(item);
    }
    broadcastStatus();
    Q_EMIT promptQueued(promptId);
    scheduleWorker();
    return net::HttpResponse::json(
        PyJson::dumpsOrdered({{QStringLiteral("prompt_id"), PyJson::quote(promptId)},
                              {QStringLiteral("number"), item.numberText()},
                              {QStringLiteral("node_errors"), PyJson::dumps(result.nodeErrors)}}));
}

net::HttpResponse SandboxComfyServer::getQueue()
{
    QByteArray running = "[";
    if (m_queue.running())
        running += m_queue.running()->toPyJson();
    running += ']';
    QByteArrayList pending;
    for (const QueueItem& item : m_queue.pending())
        pending << item.toPyJson();
    return net::HttpResponse::json(
        PyJson::dumpsOrdered({{QStringLiteral("queue_running"), running},
                              {QStringLiteral("queue_pending"), '[' + pending.join(", ") + ']'}}));
}

net::HttpResponse SandboxComfyServer::postQueue(const net::HttpRequest& request)
{
    const auto parsed = parseJsonBody(request.body);
    if (!parsed || !parsed->isObject())
        return internalError();
    const QJsonObject json = parsed->toObject();
    if (json.contains(QStringLiteral("clear")) && json.value(QStringLiteral("clear")).toBool()) {
        {
            QMutexLocker lock(&m_mutex);
            m_queue.clearPending();
        }
        broadcastStatus();
    }
    if (json.contains(QStringLiteral("delete"))) {
        for (const QJsonValue& v : json.value(QStringLiteral("delete")).toArray()) {
            int notifications = 0;
            {
                QMutexLocker lock(&m_mutex);
                notifications = m_queue.deletePending(PyJson::pyStr(v));
            }
            for (int i = 0; i < notifications; ++i)
                broadcastStatus();
        }
    }
    return net::HttpResponse::empty(200);
}

net::HttpResponse SandboxComfyServer::getHistory(const net::HttpRequest& request)
{
    std::optional<int> maxItems;
    int offset = -1;
    bool ok = true;
    if (request.hasQuery(QStringLiteral("max_items"))) {
        maxItems = request.queryValue(QStringLiteral("max_items")).trimmed().toInt(&ok);
        if (!ok)
            return internalError(); // int() raised
    }
    if (request.hasQuery(QStringLiteral("offset"))) {
        offset = request.queryValue(QStringLiteral("offset")).trimmed().toInt(&ok);
        if (!ok)
            return internalError();
    }
    return net::HttpResponse::json(m_queue.historyJson(maxItems, offset, QDateTime::currentMSecsSinceEpoch()));
}

net::HttpResponse SandboxComfyServer::postHistory(const net::HttpRequest& request)
{
    const auto parsed = parseJsonBody(request.body);
    if (!parsed || !parsed->isObject())
        return internalError();
    const QJsonObject json = parsed->toObject();
    QMutexLocker lock(&m_mutex);
    if (json.value(QStringLiteral("clear")).toBool())
        m_queue.clearHistory();
    for (const QJsonValue& v : json.value(QStringLiteral("delete")).toArray())
        m_queue.deleteHistory(PyJson::pyStr(v));
    return net::HttpResponse::empty(200);
}

net::HttpResponse SandboxComfyServer::postInterrupt(const net::HttpRequest& request)
{
    // The only handler that tolerates a missing or invalid body: it then interrupts globally.
    const auto parsed = parseJsonBody(request.body);
    QJsonObject json;
    if (parsed) {
        if (!parsed->isObject())
            return internalError(); // json_data.get on a list raises
        json = parsed->toObject();
    }
    const QJsonValue target = json.value(QStringLiteral("prompt_id"));
    const bool targeted =
        (target.isString() && !target.toString().isEmpty()) || (target.isDouble() && target.toDouble() != 0);
    if (targeted) {
        if (m_execution && m_queue.running() && m_queue.running()->promptId == PyJson::pyStr(target))
            m_execution->interrupt();
    } else if (m_execution) {
        m_execution->interrupt();
    }
    return net::HttpResponse::empty(200);
}

net::HttpResponse SandboxComfyServer::postFree(const net::HttpRequest& request)
{
    const auto parsed = parseJsonBody(request.body);
    if (!parsed || !parsed->isObject())
        return internalError();
    const QJsonObject json = parsed->toObject();
    if (json.value(QStringLiteral("unload_models")).toBool())
        m_pendingUnload = true;
    if (json.value(QStringLiteral("free_memory")).toBool())
        m_pendingFreeMemory = true;
    if (!m_execution)
        applyFreeFlags();
    return net::HttpResponse::empty(200);
}

void SandboxComfyServer::applyFreeFlags()
{
    // free_memory implies unloading models and also resets the executor caches: the next run re-executes
    // everything.
    if (m_pendingFreeMemory)
        m_cache.clear();
    if (m_pendingUnload || m_pendingFreeMemory)
        m_pendingUnload = false;
    m_pendingFreeMemory = false;
}

net::HttpResponse SandboxComfyServer::systemStats()
{
    const bool running = !m_execution.isNull();
    const qint64 used = m_config.vramIdleUsedBytes + (running ? m_config.vramRunUsedBytes : 0);
    const qint64 vramFree = qMax<qint64>(0, m_config.vramTotalBytes - used);
    const qint64 torchTotal = running ? m_config.vramRunUsedBytes : 0;
    QJsonArray argv{QStringLiteral("main.py"),
                    QStringLiteral("--listen"),
                    QStringLiteral("127.0.0.1"),
                    QStringLiteral("--port"),
                    QString::number(m_port),
                    QStringLiteral("--output-directory"),
                    m_config.outputDir,
                    QStringLiteral("--input-directory"),
                    m_config.inputDir};
    const QJsonObject system{
        {QStringLiteral("os"), QStringLiteral("posix")},
        {QStringLiteral("ram_total"), m_config.ramTotalBytes},
        {QStringLiteral("ram_free"), m_config.ramFreeBytes},
        {QStringLiteral("comfyui_version"), QStringLiteral("0.3.64")},
        {QStringLiteral("required_frontend_version"), QStringLiteral("1.27.10")},
        {QStringLiteral("installed_templates_version"), QStringLiteral("0.1.95")},
        {QStringLiteral("required_templates_version"), QStringLiteral("0.1.95")},
        {QStringLiteral("python_version"), QStringLiteral("3.12.3 (main, sandbox) [GCC 13.2.0]")},
        {QStringLiteral("pytorch_version"), QStringLiteral("2.8.0+cu128")},
        {QStringLiteral("embedded_python"), false},
        {QStringLiteral("argv"), argv}};
    const QJsonObject device{{QStringLiteral("name"), m_config.deviceName},
                             {QStringLiteral("type"), QStringLiteral("cuda")},
                             {QStringLiteral("index"), 0},
                             {QStringLiteral("vram_total"), m_config.vramTotalBytes},
                             {QStringLiteral("vram_free"), vramFree},
                             {QStringLiteral("torch_vram_total"), torchTotal},
                             {QStringLiteral("torch_vram_free"), running ? torchTotal / 8 : 0}};
    return net::HttpResponse::json(
        PyJson::dumpsOrdered({{QStringLiteral("system"), PyJson::dumps(system)},
                              {QStringLiteral("devices"), PyJson::dumps(QJsonArray{device})}}));
}

QString SandboxComfyServer::directoryForType(const QString& type) const
{
    if (type == QLatin1String("output"))
        return m_config.outputDir;
    if (type == QLatin1String("input"))
        return m_config.inputDir;
    if (type == QLatin1String("temp"))
        return m_config.tempDir;
    return {};
}

net::HttpResponse SandboxComfyServer::view(const net::HttpRequest& request)
{
    if (!request.hasQuery(QStringLiteral("filename")))
        return net::HttpResponse::empty(404);
    QString filename = request.queryValue(QStringLiteral("filename"));
    QString dir;
    // folder_paths.annotated_filepath: "name.png [output]" overrides type
    if (filename.endsWith(QLatin1String("[output]"))) {
        dir = m_config.outputDir;
        filename.chop(9);
    } else if (filename.endsWith(QLatin1String("[input]"))) {
        dir = m_config.inputDir;
        filename.chop(8);
    } else if (filename.endsWith(QLatin1String("[temp]"))) {
        dir = m_config.tempDir;
        filename.chop(7);
    }
    if (filename.isEmpty())
        return net::HttpResponse::empty(400);
    if (filename.startsWith(QLatin1Char('/')) || filename.contains(QLatin1String("..")))
        return net::HttpResponse::empty(400);
    if (dir.isEmpty()) {
        dir = directoryForType(request.queryValue(QStringLiteral("type"), QStringLiteral("output")));
        if (dir.isEmpty())
            return net::HttpResponse::empty(400);
    }
    if (request.hasQuery(QStringLiteral("subfolder"))) {
        const QString sub = request.queryValue(QStringLiteral("subfolder"));
        // os.path.join: an absolute subfolder replaces the base entirely
        const QString full = QDir::cleanPath(QDir::isAbsolutePath(sub) ? sub : dir + QLatin1Char('/') + sub);
        if (!isInside(dir, full))
            return net::HttpResponse::empty(403);
        dir = full;
    }
    filename = filename.mid(filename.lastIndexOf(QLatin1Char('/')) + 1);
    const QString path = QDir(dir).filePath(filename);
    QFile file(path);
    if (!QFileInfo(path).isFile() || !file.open(QIODevice::ReadOnly))
        return net::HttpResponse::empty(404);
    const QByteArray data = file.readAll();
    net::HttpResponse r;
    r.setHeader("Content-Type", mimeTypeFor(filename));
    r.setHeader("Content-Disposition", "filename=\"" + filename.toUtf8() + '"');
    r.setHeader("Accept-Ranges", "bytes");
    r.setHeader("Last-Modified", QLocale::c()
                                         .toString(QFileInfo(path).lastModified().toUTC(),
                                                   QStringLiteral("ddd, dd MMM yyyy hh:mm:ss"))
                                         .toLatin1() +
                                     " GMT");
    const QByteArray range = request.header("Range").trimmed();
    const qint64 size = data.size();
    if (range.startsWith("bytes=") && !range.contains(',')) {
        const QByteArray spec = range.mid(6).trimmed();
        const int dash = spec.indexOf('-');
        bool okStart = true;
        bool okEnd = true;
        qint64 start = 0;
        qint64 end = size - 1;
        if (dash < 0) {
            okStart = false;
        } else if (dash == 0) {
            const qint64 suffix = spec.mid(1).toLongLong(&okEnd);
            start = qMax<qint64>(0, size - suffix);
        } else {
            start = spec.left(dash).toLongLong(&okStart);
            if (dash + 1 < spec.size())
                end = qMin(size - 1, spec.mid(dash + 1).toLongLong(&okEnd));
        }
        if (!okStart || !okEnd || start >= size || start > end) {
            net::HttpResponse bad = net::HttpResponse::empty(416);
            bad.setHeader("Content-Range", "bytes */" + QByteArray::number(size));
            return bad;
        }
        r.status = 206;
        r.body = data.mid(start, end - start + 1);
        r.setHeader("Content-Range", "bytes " + QByteArray::number(start) + '-' + QByteArray::number(end) +
                                         '/' + QByteArray::number(size));
        return r;
    }
    r.body = data;
    return r;
}

net::HttpResponse SandboxComfyServer::uploadImage(const net::HttpRequest& request)
{
    QString error;
    const auto parts = MultipartFormData::parse(request.header("Content-Type"), request.body, &error);
    if (!parts)
        return net::HttpResponse::empty(400);
    const MultipartPart* image = nullptr;
    QHash<QString, QString> fields;
    for (const MultipartPart& p : *parts) {
        if (p.name == QLatin1String("image") && !image)
            image = &p;
        else if (!fields.contains(p.name))
            fields.insert(p.name, QString::fromUtf8(p.data));
    }
    const QString type = fields.value(QStringLiteral("type"), QStringLiteral("input"));
    const QString uploadDir = directoryForType(type);
    if (uploadDir.isEmpty())
        return internalError(); // get_dir_by_type leaves type_dir unbound for an unknown type
    if (!image || !image->hasFileName)
        return net::HttpResponse::empty(400);
    QString filename = image->fileName;
    if (filename.isEmpty())
        return net::HttpResponse::empty(400);
    const QString subfolder = fields.value(QStringLiteral("subfolder"));
    const QString fullFolder = QDir::cleanPath(
        QDir::isAbsolutePath(subfolder) ? subfolder : uploadDir + QLatin1Char('/') + subfolder);
    QString filePath = QDir::cleanPath(fullFolder + QLatin1Char('/') + filename);
    if (!isInside(uploadDir, filePath) || filePath == QDir::cleanPath(uploadDir))
        return net::HttpResponse::empty(400);
    QDir().mkpath(fullFolder);
    const QString overwrite = fields.value(QStringLiteral("overwrite"));
    bool duplicate = false;
    if (overwrite != QLatin1String("true") && overwrite != QLatin1String("1")) {
        const QFileInfo original(filename);
        const QString stem = filename.contains(QLatin1Char('.')) && !filename.startsWith(QLatin1Char('.'))
                                 ? filename.left(filename.lastIndexOf(QLatin1Char('.')))
                                 : filename;
        const QString ext = filename.mid(stem.size());
        int i = 1;
        while (QFileInfo::exists(filePath)) {
            QFile existing(filePath);
            // compare_image_hash: an identical upload reuses the existing name and writes nothing
            if (existing.open(QIODevice::ReadOnly) &&
                QCryptographicHash::hash(existing.readAll(), QCryptographicHash::Sha256) ==
                    QCryptographicHash::hash(image->data, QCryptographicHash::Sha256)) {
                duplicate = true;
                break;
            }
            filename = QStringLiteral("%1 (%2)%3").arg(stem).arg(i).arg(ext);
            filePath = QDir(fullFolder).filePath(filename);
            ++i;
        }
    }
    if (!duplicate) {
        QFile out(filePath);
        if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
            out.write(image->data) != image->data.size())
            return internalError();
    }
    return net::HttpResponse::json(PyJson::dumpsOrdered({{QStringLiteral("name"), PyJson::quote(filename)},
                                                    {QStringLiteral("subfolder"), PyJson::quote(subfolder)},
                                                    {QStringLiteral("type"), PyJson::quote(type)}}));
}

// ---- WebSocket
// ----------------------------------------------------------------------------------------------------

void SandboxComfyServer::onWebSocket(QWebSocket* socket)
{
    socket->setParent(this);
    QString sid =
        QUrlQuery(socket->requestUrl()).queryItemValue(QStringLiteral("clientId"), QUrl::FullyDecoded);
    if (sid.isEmpty())
        sid = QUuid::createUuid().toString(QUuid::Id128);
    {
        // Reconnecting with the same clientId replaces the routing entry; the old socket is not closed.
        QMutexLocker lock(&m_mutex);
        m_sockets.insert(sid, socket);
    }
    m_socketSid.insert(socket, sid);
    m_allSockets.insert(socket);
    connect(socket, &QWebSocket::textMessageReceived, this, [this, socket](const QString& message) {
        if (m_sawFirstMessage.contains(socket))
            return;
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(message.toUtf8(), &error);
        if (error.error != QJsonParseError::NoError)
            return; // an unparsable message does not count as the first one
        m_sawFirstMessage.insert(socket);
        if (doc.object().value(QStringLiteral("type")).toString() == QLatin1String("feature_flags")) {
            socket->sendTextMessage(QString::fromLatin1(
                "{\"type\": \"feature_flags\", \"data\": {\"supports_preview_metadata\": true, "
                "\"max_upload_size\": " +
                PyJson::formatFloat(double(m_config.maxUploadBytes)) + "}}"));
        }
    });
    connect(socket, &QWebSocket::disconnected, this, [this, socket]() {
        const QString closedSid = m_socketSid.take(socket);
        {
            // The server's cleanup pops by clientId, whoever holds the entry now: a stale socket closing
            // after a reconnect removes the new socket's routing (comfyui-api.md §5.1).
            QMutexLocker lock(&m_mutex);
            m_sockets.remove(closedSid);
        }
        m_allSockets.remove(socket);
        m_sawFirstMessage.remove(socket);
        socket->deleteLater();
    });
    QJsonObject status{{QStringLiteral("status"), queueInfo()}, {QStringLiteral("sid"), sid}};
    send(QStringLiteral("status"), status, sid);
    if (m_execution && m_queue.running() && m_queue.running()->hasClientId() &&
        m_queue.running()->clientId() == sid && !m_execution->lastNodeId().isEmpty())
        send(QStringLiteral("executing"), QJsonObject{{QStringLiteral("node"), m_execution->lastNodeId()}},
             sid);
}

void SandboxComfyServer::send(const QString& type, const QJsonObject& data, const QString& sid)
{
    const QString text = wsMessage(type, data);
    if (sid.isEmpty()) {
        for (auto it = m_sockets.begin(); it != m_sockets.end(); ++it)
            if (it.key() != m_silencedSid)
                it.value()->sendTextMessage(text);
        return;
    }
    if (sid == m_silencedSid)
        return;
    if (QWebSocket* ws = m_sockets.value(sid))
        ws->sendTextMessage(text);
}

void SandboxComfyServer::broadcastStatus()
{
    send(QStringLiteral("status"), QJsonObject{{QStringLiteral("status"), queueInfo()}}, QString());
}

// ---- worker
// -------------------------------------------------------------------------------------------------------

void SandboxComfyServer::scheduleWorker()
{
    if (m_workerScheduled || m_execution || m_dead)
        return;
    m_workerScheduled = true;
    QTimer::singleShot(0, this, &SandboxComfyServer::startNext);
}

ExecutionFaults SandboxComfyServer::takeFaults(const QueueItem& item)
{
    ExecutionFaults f;
    m_faultWsDrop = false;
    m_faultWsSilent = false;
    m_faultHistoryDelayMs = 0;
    m_faultRestartMs = -1;
    m_faultDie = false;
    const QStringList prefixes = GraphInspector(item.prompt, m_catalog).filenamePrefixes();
    for (auto& entry : m_faults) {
        const FaultRule& rule = entry.first;
        if (entry.second == 0 || isHttpFault(rule.kind))
            continue;
        bool matches = rule.match.isEmpty();
        for (const QString& p : prefixes)
            matches = matches || p.contains(rule.match);
        if (!matches)
            continue;
        if (entry.second > 0)
            --entry.second;
        switch (rule.kind) {
        case FaultKind::ExecutionError:
            f.executionError = true;
            break;
        case FaultKind::Oom:
            f.oom = true;
            break;
        case FaultKind::Interrupt:
            f.interrupt = true;
            break;
        case FaultKind::WsDrop:
            m_faultWsDrop = true;
            break;
        case FaultKind::WsSilent:
            m_faultWsSilent = true;
            break;
        case FaultKind::HistoryDelay:
            m_faultHistoryDelayMs = rule.param;
            break;
        case FaultKind::MissingMarker:
            f.missingMarker = true;
            break;
        case FaultKind::SlowFrames:
            f.slowFramesMs = rule.param;
            break;
        case FaultKind::ZeroFrames:
            f.zeroFrames = true;
            break;
        case FaultKind::FewFrames:
            f.fewFrames = rule.param;
            break;
        case FaultKind::HostileFilename:
            f.hostileFilename = true;
            break;
        case FaultKind::HostileSubfolder:
            f.hostileSubfolder = rule.param == 1 ? 1 : 0;
            break;
        case FaultKind::TruncatedFrame:
            f.truncatedFrame = true;
            break;
        case FaultKind::Restart:
            m_faultRestartMs = rule.param;
            break;
        case FaultKind::Die:
            m_faultDie = true;
            break;
        case FaultKind::MalformedJson:
        case FaultKind::OversizedResponse:
        case FaultKind::SlowLoris:
            break; // bound at queue time (takeHttpFaults)
        }
    }
    return f;
}

void SandboxComfyServer::takeHttpFaults(QueueItem& item)
{
    const QStringList prefixes = GraphInspector(item.prompt, m_catalog).filenamePrefixes();
    for (auto& entry : m_faults) {
        const FaultRule& rule = entry.first;
        if (entry.second == 0 || !isHttpFault(rule.kind))
            continue;
        bool matches = rule.match.isEmpty();
        for (const QString& p : prefixes)
            matches = matches || p.contains(rule.match);
        if (!matches)
            continue;
        if (entry.second > 0)
            --entry.second;
        m_httpFaults[item.promptId].append(rule);
        if (rule.kind == FaultKind::OversizedResponse) {
            // The web UI sends its whole graph as extra_pnginfo.workflow and ComfyUI keeps extra_data
            // verbatim in the queue item and the history entry's prompt tuple: a big workflow makes every
            // /queue and /history answer about this prompt that big.
            QJsonObject pnginfo = item.extraData.value(QStringLiteral("extra_pnginfo")).toObject();
            pnginfo.insert(QStringLiteral("workflow"),
                           QJsonObject{{QStringLiteral("notes"),
                                        QString(qMax(1, rule.param) * 1024, QLatin1Char('w'))}});
            item.extraData.insert(QStringLiteral("extra_pnginfo"), pnginfo);
        }
    }
}

net::HttpResponse SandboxComfyServer::historyOf(const QString& promptId)
{
    net::HttpResponse r =
        net::HttpResponse::json(m_queue.historyJson(promptId, QDateTime::currentMSecsSinceEpoch()));
    for (const FaultRule& rule : m_httpFaults.value(promptId)) {
        if (rule.kind == FaultKind::MalformedJson) {
            r.body.truncate(r.body.size() / 2);
        } else if (rule.kind == FaultKind::SlowLoris) {
            r.trickleIntervalMs = rule.param > 0 ? rule.param : 200;
            r.trickleChunkBytes = 8;
        }
    }
    return r;
}

void SandboxComfyServer::startNext()
{
    m_workerScheduled = false;
    if (m_execution || m_dead)
        return;
    std::optional<QueueItem> item;
    {
        QMutexLocker lock(&m_mutex);
        item = m_queue.take();
    }
    if (!item)
        return;
    broadcastStatus(); // PromptQueue.get() notifies; the running prompt still counts
    const ExecutionFaults faults = takeFaults(*item);
    auto* execution = new PromptExecution(*item, m_config, m_catalog, &m_cache, faults, this);
    m_execution = execution;
    connect(execution, &PromptExecution::event, this, &SandboxComfyServer::onExecutionEvent);
    connect(execution, &PromptExecution::finished, this, &SandboxComfyServer::onExecutionFinished);
    connect(execution, &PromptExecution::midRun, this, &SandboxComfyServer::onMidRun);
    execution->start();
}

void SandboxComfyServer::onExecutionEvent(const QString& type, const QJsonObject& data)
{
    if (!m_execution)
        return;
    const QueueItem& item = m_execution->item();
    if (item.hasClientId())
        send(type, data, item.clientId());
    else if (!kOwnerOnlyEvents.contains(type))
        send(type, data, QString()); // progress, progress_state, execution_interrupted are broadcast (§5.6)
}

void SandboxComfyServer::onMidRun()
{
    if (!m_execution)
        return;
    const QueueItem& item = m_execution->item();
    if (m_faultWsDrop && item.hasClientId()) {
        if (QWebSocket* ws = m_sockets.value(item.clientId()))
            ws->abort();
    }
    if (m_faultWsSilent && item.hasClientId())
        m_silencedSid = item.clientId();
    if (m_faultDie)
        simulateOutage(false, 0);
    else if (m_faultRestartMs >= 0)
        simulateOutage(true, m_faultRestartMs);
}

void SandboxComfyServer::simulateOutage(bool comeBack, int downMs)
{
    QString lostId;
    if (m_execution) {
        lostId = m_execution->item().promptId;
        m_execution->abandon();
        m_execution->deleteLater();
        m_execution = nullptr;
    }
    close();
    {
        QMutexLocker lock(&m_mutex);
        m_queue.reset();
        m_sockets.clear();
    }
    m_cache.clear();
    m_silencedSid.clear();
    m_dead = true;
    if (!lostId.isEmpty())
        Q_EMIT promptFinished(lostId, QStringLiteral("lost"));
    if (comeBack) {
        QTimer::singleShot(downMs, this, [this]() {
            QString error;
            m_dead = false;
            m_http->listen(m_port, &error);
        });
    }
}

void SandboxComfyServer::onExecutionFinished(const ExecutionOutcome& outcome)
{
    auto* execution = m_execution.data();
    if (!execution)
        return;
    const QueueItem item = execution->item();
    const bool success = outcome.result == QLatin1String("success");
    const QJsonObject fields{{QStringLiteral("outputs"), outcome.outputs},
                             {QStringLiteral("status"),
                              QJsonObject{{QStringLiteral("status_str"),
                                           success ? QStringLiteral("success") : QStringLiteral("error")},
                                          {QStringLiteral("completed"), success},
                                          {QStringLiteral("messages"), outcome.messages}}},
                             {QStringLiteral("meta"), outcome.meta}};
    {
        QMutexLocker lock(&m_mutex);
        m_queue.finishRunning(fields, QDateTime::currentMSecsSinceEpoch() + m_faultHistoryDelayMs);
    }
    m_execution = nullptr;
    execution->deleteLater();
    // task_done writes history and notifies (status), then the worker sends executing{node:null} to the
    // owner.
    broadcastStatus();
    if (item.hasClientId())
        send(
            QStringLiteral("executing"),
            QJsonObject{{QStringLiteral("node"), QJsonValue()}, {QStringLiteral("prompt_id"), item.promptId}},
            item.clientId());
    m_silencedSid.clear();
    applyFreeFlags();
    Q_EMIT promptFinished(item.promptId, outcome.result);
    scheduleWorker();
}

} // namespace gd::sandbox
