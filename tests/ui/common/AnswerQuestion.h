#pragma once

// Test helper shared by the desktop-app tests: answers the next question box (e.g. the close guard's
// "cancel and quit?") with a button.

#include <QApplication>
#include <QMessageBox>
#include <QPushButton>
#include <QTimer>

namespace gdtest {

// Answers the next question box with `button`: polls for it, since the box runs its own event loop
// inside close(). *asked becomes true once it was answered.
inline void answerNextQuestion(QMessageBox::StandardButton button, bool* asked)
{
    auto* poll = new QTimer;
    poll->setInterval(50);
    QObject::connect(poll, &QTimer::timeout, poll, [poll, button, asked] {
        for (QWidget* w : QApplication::topLevelWidgets()) {
            auto* box = qobject_cast<QMessageBox*>(w);
            if (box && box->isVisible() && box->button(button)) {
                *asked = true;
                poll->stop();
                poll->deleteLater();
                box->button(button)->click();
                return;
            }
        }
    });
    poll->start();
}

} // namespace gdtest
