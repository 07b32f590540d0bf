package io.eurekars.spring.push;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import com.netflix.appinfo.InstanceInfo;
import com.netflix.discovery.shared.Applications;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.eurekars.spring.push.Fixtures.copy;
import static io.eurekars.spring.push.Fixtures.i;
import static org.assertj.core.api.Assertions.assertThat;

/** The stream against a small in-process server that speaks {@code GET /eureka/watch}. */
class ChangeStreamTest {

	/** What one request to the fake server carried. */
	record Seen(String path, String lastEventId, String clientId, String authorization) {
	}

	final BlockingQueue<Seen> requests = new LinkedBlockingQueue<>();

	/** Each connection takes the next script: a status, and the events to send (then it ends). */
	final BlockingQueue<Script> scripts = new LinkedBlockingQueue<>();

	record Script(int status, String body, boolean holdOpen) {
	}

	final List<HttpServer> servers = new ArrayList<>();

	final AtomicReference<Applications> copy = new AtomicReference<>(copy(i("A", "a1", "UP"), i("A", "a2", "UP")));

	final List<String> announcedApps = new CopyOnWriteArrayList<>();

	final FetchObserver fetches = new FetchObserver();

	ChangeStream stream;

	final java.util.concurrent.CountDownLatch closing = new java.util.concurrent.CountDownLatch(1);

	@AfterEach
	void tearDown() {
		if (this.stream != null) {
			this.stream.stop();
		}
		this.closing.countDown();
		this.servers.forEach(s -> s.stop(0));
	}

	String serve() throws IOException {
		HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
		server.createContext("/eureka/watch", this::watch);
		server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
		server.start();
		this.servers.add(server);
		return "http://127.0.0.1:" + server.getAddress().getPort() + "/eureka/";
	}

	void watch(HttpExchange ex) throws IOException {
		this.requests.add(new Seen(ex.getRequestURI().getPath(), ex.getRequestHeaders().getFirst("Last-Event-ID"),
				ex.getRequestHeaders().getFirst("X-Eureka-Client-Id"),
				ex.getRequestHeaders().getFirst("Authorization")));
		Script s;
		try {
			s = this.scripts.poll(10, TimeUnit.SECONDS);
		}
		catch (InterruptedException e) {
			return;
		}
		if (s == null || s.status() != 200) {
			ex.sendResponseHeaders(s == null ? 500 : s.status(), -1);
			ex.close();
			return;
		}
		ex.getResponseHeaders().add("Content-Type", "text/event-stream");
		ex.sendResponseHeaders(200, 0);
		OutputStream out = ex.getResponseBody();
		out.write(s.body().getBytes(StandardCharsets.UTF_8));
		out.flush();
		if (s.holdOpen()) {
			try {
				this.closing.await(30, TimeUnit.SECONDS);
			}
			catch (InterruptedException e) {
				// server stopped
			}
		}
		ex.close();
	}

	static String snapshotEvent(long id, String[]... instances) {
		return "id: " + id + "\nevent: snapshot\ndata: " + Fixtures.snapshotData(instances) + "\n\n";
	}

	static String changeEvent(long id, String action, String app, String inst, String status) {
		return "id: " + id + "\nevent: change\ndata: " + Fixtures.changeData(action, app, inst, 8080, status, id)
				+ "\n\n";
	}

	ChangeStream start(List<String> urls) {
		EurekaPushProperties p = new EurekaPushProperties();
		p.setInitialBackoff(Duration.ofMillis(50));
		p.setMaxBackoff(Duration.ofMillis(200));
		p.setUnsupportedRetryInterval(Duration.ofMillis(300));
		LocalRegistry registry = new LocalRegistry(this.copy::get, true, this.fetches,
				(apps, v) -> this.announcedApps.addAll(apps.keySet()));
		StreamHttp http = new StreamHttp(null, Duration.ofSeconds(2), Duration.ofSeconds(2), "web-1:web:8080");
		this.stream = new ChangeStream(p, () -> urls, this.fetches, registry, http);
		this.stream.start();
		return this.stream;
	}

	List<String> upIds() {
		return this.copy.get().getInstancesByVirtualHostName("a").stream().map(InstanceInfo::getId).sorted().toList();
	}

	void waitFor(String what, java.util.function.BooleanSupplier check) throws InterruptedException {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
		while (!check.getAsBoolean()) {
			assertThat(System.nanoTime()).as(what).isLessThan(deadline);
			Thread.sleep(10);
		}
	}

	@Test
	void eventsReachTheCopyAndABrokenStreamResumesFromTheLastEventId() throws Exception {
		String url = serve();
		this.scripts.add(new Script(200, snapshotEvent(3, i("A", "a1", "UP"), i("A", "a2", "UP"))
				+ changeEvent(4, "MODIFIED", "A", "a2", "OUT_OF_SERVICE"), false));
		this.scripts.add(new Script(200, changeEvent(5, "ADDED", "A", "a3", "UP"), true));
		start(List.of(url));

		waitFor("a3 added after the reconnect", () -> upIds().equals(List.of("a1", "a3")));
		Seen first = this.requests.take();
		Seen second = this.requests.take();
		assertThat(first.path()).isEqualTo("/eureka/watch");
		assertThat(first.lastEventId()).isNull();
		assertThat(first.clientId()).isEqualTo("web-1:web:8080");
		assertThat(second.lastEventId()).isEqualTo("4");
		assertThat(this.announcedApps).contains("A");
		assertThat(this.stream.connectedTo()).isEqualTo(url);
	}

	@Test
	void credentialsOfTheServiceUrlAreSentAsBasicAuth() throws Exception {
		String url = serve().replace("http://", "http://app:s%40cret@");
		this.scripts.add(new Script(200, snapshotEvent(1, i("A", "a1", "UP")), true));
		start(List.of(url));
		Seen seen = this.requests.poll(10, TimeUnit.SECONDS);
		assertThat(seen).isNotNull();
		assertThat(seen.authorization()).isEqualTo("Basic "
				+ java.util.Base64.getEncoder().encodeToString("app:s@cret".getBytes(StandardCharsets.UTF_8)));
	}

	@Test
	void aServerWithoutTheStreamIsAskedAgainOnlyAfterTheRetryInterval() throws Exception {
		String url = serve();
		this.scripts.add(new Script(404, "", false));
		this.scripts.add(new Script(404, "", false));
		start(List.of(url));
		assertThat(this.requests.poll(5, TimeUnit.SECONDS)).isNotNull();
		long asked = System.nanoTime();
		assertThat(this.requests.poll(5, TimeUnit.SECONDS)).isNotNull();
		long gap = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - asked);
		assertThat(gap).isGreaterThanOrEqualTo(250);
		// The copy was left alone.
		assertThat(upIds()).containsExactly("a1", "a2");
	}

	@Test
	void anUnreachableServiceUrlFailsOverToTheNext() throws Exception {
		int closed;
		try (ServerSocket s = new ServerSocket(0)) {
			closed = s.getLocalPort();
		}
		String dead = "http://127.0.0.1:" + closed + "/eureka/";
		String alive = serve();
		this.scripts.add(new Script(200, snapshotEvent(7, i("A", "a1", "UP")), true));
		start(List.of(dead, alive));
		waitFor("the snapshot from the second URL", () -> upIds().equals(List.of("a1")));
		assertThat(this.stream.connectedTo()).isEqualTo(alive);
	}

	@Test
	void aBadEventReopensTheStreamFromASnapshot() throws Exception {
		String url = serve();
		this.scripts.add(new Script(200,
				snapshotEvent(3, i("A", "a1", "UP"), i("A", "a2", "UP")) + "id: 4\nevent: change\ndata: {oops\n\n",
				false));
		this.scripts.add(new Script(200, snapshotEvent(9, i("A", "a1", "UP")), true));
		start(List.of(url));
		waitFor("the second snapshot", () -> upIds().equals(List.of("a1")));
		this.requests.take();
		// Not resumed after the event it could not read.
		assertThat(this.requests.take().lastEventId()).isNull();
	}

}
