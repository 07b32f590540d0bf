package io.eurekars.spring.push;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SseParserTest {

	@Test
	void eventsWithCommentsAndMultiLineData() {
		List<SseEvent> events = new ArrayList<>();
		SseParser p = new SseParser(events::add);
		for (String line : new String[] { ":", "", "id: 41", "event: snapshot", "data: {\"a\":1}", "", ":keep-alive",
				"", "id: 42", "event: change", "data:x", "data: y", "retry: 10", "" }) {
			p.line(line);
		}
		assertThat(events).containsExactly(new SseEvent("41", "snapshot", "{\"a\":1}"),
				new SseEvent("42", "change", "x\ny"));
	}

	@Test
	void anEventWithoutDataIsDroppedAndFieldsDoNotLeak() {
		List<SseEvent> events = new ArrayList<>();
		SseParser p = new SseParser(events::add);
		for (String line : new String[] { "id: 7", "event: change", "", "data: z", "" }) {
			p.line(line);
		}
		assertThat(events).containsExactly(new SseEvent(null, "message", "z"));
	}

}
