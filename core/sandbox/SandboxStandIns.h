#pragma once

#include "sandbox/SandboxConfig.h"
#include "sandbox/SandboxHost.h"
#include "sandbox/SandboxLlmConfig.h"
#include "sandbox/SandboxLlmHost.h"

#include <QString>
#include <QTemporaryDir>
#include <QUrl>
#include <memory>

namespace gd::sandbox {

// Both stand-ins in one process, as `gemdirect health --sandbox` and `gemdirect-studio --sandbox` use them:
// the ComfyUI stand-in writes into a fresh "<parentDir>/.sandbox-XXXXXX/output" (inside the runs root, so
// frames can be hard-linked) and the LLM stand-in listens next to it. Stopping removes the directory.
class SandboxStandIns
{
public:
    SandboxStandIns();
    ~SandboxStandIns();
    SandboxStandIns(const SandboxStandIns&) = delete;
    SandboxStandIns& operator=(const SandboxStandIns&) = delete;

    // Blocks until both listen on loopback (any free port). `comfy.outputDir` is replaced by the fresh
    // directory; an empty parentDir uses the system's temporary directory. On failure nothing keeps running
    // and `error` says which stand-in failed and why.
    bool start(const QString& parentDir, SandboxConfig comfy, const SandboxLlmConfig& llm, QString* error);
    void stop();
    bool isRunning() const;

    QUrl comfyUrl() const { return m_comfy.url(); }
    QUrl llmUrl() const { return m_llm.url(); }
    // The ComfyUI stand-in's output directory (the session's ComfyUI output directory).
    QString comfyOutputDir() const { return m_outputDir; }
    SandboxHost& comfy() { return m_comfy; }
    SandboxLlmHost& llm() { return m_llm; }

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_outputDir;
    SandboxHost m_comfy;
    SandboxLlmHost m_llm;
};

} // namespace gd::sandbox
