#include "sandbox/SandboxStandIns.h"

#include <QDir>

namespace gd::sandbox {

SandboxStandIns::SandboxStandIns() = default;

SandboxStandIns::~SandboxStandIns()
{
    stop();
}

bool SandboxStandIns::start(const QString& parentDir, SandboxConfig comfy, const SandboxLlmConfig& llm, QString* error)
{
    stop();
    const QString parent = parentDir.isEmpty() ? QDir::tempPath() : parentDir;
    if (!QDir().mkpath(parent)) {
        *error = QStringLiteral("cannot create %1 for the sandbox's output").arg(parent);
        return false;
    }
    m_dir = std::make_unique<QTemporaryDir>(QDir(parent).filePath(QStringLiteral(".sandbox-XXXXXX")));
    if (!m_dir->isValid()) {
        *error = QStringLiteral("cannot create a sandbox directory in %1: %2").arg(parent, m_dir->errorString());
        m_dir.reset();
        return false;
    }
    m_outputDir = QDir(m_dir->path()).filePath(QStringLiteral("output"));
    comfy.outputDir = m_outputDir;
    QString e;
    if (!m_comfy.start(comfy, 0, &e)) {
        *error = QStringLiteral("cannot start the sandbox ComfyUI: %1").arg(e);
        stop();
        return false;
    }
    if (!m_llm.start(llm, 0, &e)) {
        *error = QStringLiteral("cannot start the sandbox LLM: %1").arg(e);
        stop();
        return false;
    }
    return true;
}

void SandboxStandIns::stop()
{
    m_llm.stop();
    m_comfy.stop();
    m_dir.reset();
    m_outputDir.clear();
}

bool SandboxStandIns::isRunning() const
{
    return m_comfy.isRunning() && m_llm.isRunning();
}

} // namespace gd::sandbox
