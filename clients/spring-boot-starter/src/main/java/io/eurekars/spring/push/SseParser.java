package io.eurekars.spring.push;

import java.util.function.Consumer;

/**
 * Turns the lines of a {@code text/event-stream} body into {@link SseEvent}s: the {@code id},
 * {@code event} and {@code data} fields, comments skipped, {@code retry} ignored. Enough of
 * the format for {@code GET watch}; one parser per connection.
 */
final class SseParser {

	private final Consumer<SseEvent> sink;

	private String id;

	private String type;

	private StringBuilder data;

	SseParser(Consumer<SseEvent> sink) {
		this.sink = sink;
	}

	/** Feeds one line, without its line terminator. */
	void line(String line) {
		if (line.isEmpty()) {
			dispatch();
			return;
		}
		if (line.charAt(0) == ':') {
			return;
		}
		int colon = line.indexOf(':');
		String name = colon < 0 ? line : line.substring(0, colon);
		String value = colon < 0 ? "" : line.substring(colon + 1);
		if (value.startsWith(" ")) {
			value = value.substring(1);
		}
		switch (name) {
			case "id" -> this.id = value;
			case "event" -> this.type = value;
			case "data" -> {
				if (this.data == null) {
					this.data = new StringBuilder(value);
				}
				else {
					this.data.append('\n').append(value);
				}
			}
			default -> {
			}
		}
	}

	private void dispatch() {
		if (this.data != null) {
			this.sink.accept(new SseEvent(this.id, this.type == null ? "message" : this.type, this.data.toString()));
		}
		this.id = null;
		this.type = null;
		this.data = null;
	}

}
