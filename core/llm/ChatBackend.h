#pragma once

#include "llm/LlmTypes.h"

#include <QObject>

namespace gd::llm {

// One streaming chat completion in flight: token()/reasoningToken() as text arrives, then exactly
// one finished(), then the job deletes itself (deleteLater). cancel() aborts the request; finished()
// then carries an error of kind "cancelled".
class ChatJob : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    virtual void cancel() = 0;

Q_SIGNALS:
    void token(const QString& text);
    void reasoningToken(const QString& text);
    void finished(const gd::llm::ChatResult& result);
};

// What the story generator needs from an LLM: start a chat. LlmClient implements it; tests can
// script answers through it.
class ChatBackend
{
public:
    virtual ~ChatBackend() = default;
    virtual ChatJob* startChat(const ChatRequest& request, QObject* parent) = 0;
};

} // namespace gd::llm
