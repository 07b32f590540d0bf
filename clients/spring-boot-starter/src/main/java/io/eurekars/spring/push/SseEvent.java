package io.eurekars.spring.push;

/**
 * One server-sent event of the change stream.
 *
 * @param id the {@code id} field, or {@code null} when the event had none
 * @param type the {@code event} field ({@code message} when absent)
 * @param data the {@code data} lines joined by {@code \n}
 */
record SseEvent(String id, String type, String data) {
}
