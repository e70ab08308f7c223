#pragma once

#include <QVector>
#include <cstddef>
#include <iterator>
#include <vector>

namespace gd::gpu {

// Fixed-capacity history: push is O(1) and overwrites the oldest element once full; iteration and
// at() go from oldest to newest. Not thread-safe; the owner locks.
template <typename T> class RingBuffer
{
public:
    explicit RingBuffer(qsizetype capacity) : m_items(static_cast<std::size_t>(capacity > 0 ? capacity : 1))
    {
    }

    void push(const T& value)
    {
        m_items[static_cast<std::size_t>((m_start + m_size) % capacity())] = value;
        if (m_size < capacity())
            ++m_size;
        else
            m_start = (m_start + 1) % capacity();
    }
    void clear()
    {
        m_start = 0;
        m_size = 0;
    }

    qsizetype size() const { return m_size; }
    qsizetype capacity() const { return static_cast<qsizetype>(m_items.size()); }
    bool isEmpty() const { return m_size == 0; }
    bool isFull() const { return m_size == capacity(); }
    // i = 0 is the oldest element, size() - 1 the newest.
    const T& at(qsizetype i) const { return m_items[static_cast<std::size_t>((m_start + i) % capacity())]; }
    const T& newest() const { return at(m_size - 1); }
    const T& oldest() const { return at(0); }

    class const_iterator
    {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = T;
        using difference_type = std::ptrdiff_t;
        using pointer = const T*;
        using reference = const T&;

        const_iterator() = default;
        const_iterator(const RingBuffer* buffer, qsizetype pos) : m_buffer(buffer), m_pos(pos) {}
        reference operator*() const { return m_buffer->at(m_pos); }
        pointer operator->() const { return &m_buffer->at(m_pos); }
        const_iterator& operator++()
        {
            ++m_pos;
            return *this;
        }
        const_iterator operator++(int)
        {
            const_iterator old = *this;
            ++m_pos;
            return old;
        }
        bool operator==(const const_iterator& other) const { return m_pos == other.m_pos; }
        bool operator!=(const const_iterator& other) const { return m_pos != other.m_pos; }

    private:
        const RingBuffer* m_buffer = nullptr;
        qsizetype m_pos = 0;
    };

    const_iterator begin() const { return const_iterator(this, 0); }
    const_iterator end() const { return const_iterator(this, m_size); }

    QVector<T> toVector() const
    {
        QVector<T> out;
        out.reserve(m_size);
        for (qsizetype i = 0; i < m_size; ++i)
            out.push_back(at(i));
        return out;
    }

private:
    std::vector<T> m_items;
    qsizetype m_start = 0;
    qsizetype m_size = 0;
};

} // namespace gd::gpu
