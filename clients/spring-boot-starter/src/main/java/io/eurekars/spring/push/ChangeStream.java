package io.eurekars.spring.push;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.context.SmartLifecycle;

/**
 * Follows {@code GET {serviceUrl}watch} of the server the Eureka client reads from and hands
 * every event to {@link LocalRegistry}.
 *
 * <ul>
 * <li>It prefers the service URL of the client's last fetch (versions are per server) and
 * fails over along the client's service URLs, backing off after a full round.</li>
 * <li>A broken stream reconnects with {@code Last-Event-ID}; the server resumes after it or
 * starts again with a snapshot.</li>
 * <li>A server without the stream (the Java Eureka server answers 404) is noted once in the
 * log and asked again rarely; the Eureka client polls as it always did.</li>
 * <li>A stream silent for longer than the idle timeout (the server sends a comment every
 * 15 s) is taken as dead and reopened.</li>
 * </ul>
 * Nothing here blocks the application: the stream runs on its own daemon thread, started once
 * the context is up.
 */
class ChangeStream implements SmartLifecycle {

	private static final Log log = LogFactory.getLog(ChangeStream.class);

	/** How one connection attempt ended. */
	enum Outcome {

		/** It delivered events, then ended or broke: reconnect at once. */
		ENDED,
		/** It could not connect, or the server failed: try the next URL. */
		FAILED,
		/** The server has no stream (404, 405, 501, or not an event stream). */
		UNSUPPORTED,
		/** The server refused our credentials (401, 403). */
		REFUSED,
		/** The client moved to another server, or the stream was stopped. */
		INTERRUPTED

	}

	private final EurekaPushProperties properties;

	private final Supplier<List<String>> serviceUrls;

	private final FetchObserver fetches;

	private final LocalRegistry registry;

	private final StreamHttp http;

	private final Object sleeper = new Object();

	private volatile boolean running;

	private volatile boolean switchRequested;

	private volatile InputStream body;

	private volatile long lastReadNanos;

	private volatile String connectedTo;

	private Thread thread;

	private ScheduledExecutorService ticker;

	private String resumeEndpoint;

	private String resumeId;

	private boolean troubleLogged;

	private String unsupportedLogged;

	private String announced;

	ChangeStream(EurekaPushProperties properties, Supplier<List<String>> serviceUrls, FetchObserver fetches,
			LocalRegistry registry, StreamHttp http) {
		this.properties = properties;
		this.serviceUrls = serviceUrls;
		this.fetches = fetches;
		this.registry = registry;
		this.http = http;
		fetches.onEndpointChange(this::switchServer);
	}

	@Override
	public synchronized void start() {
		if (this.running) {
			return;
		}
		this.running = true;
		this.thread = new Thread(this::run, "eureka-rs-push");
		this.thread.setDaemon(true);
		this.thread.start();
		this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
			Thread t = new Thread(r, "eureka-rs-push-ticker");
			t.setDaemon(true);
			return t;
		});
		this.ticker.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
	}

	@Override
	public synchronized void stop() {
		if (!this.running) {
			return;
		}
		this.running = false;
		closeBody();
		wake();
		this.thread.interrupt();
		this.ticker.shutdownNow();
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	/** The normalized service URL of the open stream, or {@code null} while not connected. */
	String connectedTo() {
		return this.connectedTo;
	}

	/** The service URL to send drain to: the stream's server, else the client's first. */
	Optional<String> currentServer() {
		String url = this.connectedTo;
		List<String> urls = candidates();
		for (String u : urls) {
			if (Endpoints.normalize(u).equals(url)) {
				return Optional.of(u);
			}
		}
		return urls.isEmpty() ? Optional.empty() : Optional.of(urls.get(0));
	}

	/** The client reads from another server now: follow it. */
	void switchServer() {
		this.switchRequested = true;
		closeBody();
		wake();
	}

	private void tick() {
		try {
			this.registry.flush();
			long idle = System.nanoTime() - this.lastReadNanos;
			if (this.body != null && idle > this.properties.getIdleTimeout().toNanos()) {
				log.info("The eureka-rs change stream at " + this.connectedTo + " was silent for "
						+ Duration.ofNanos(idle).toSeconds() + " s; reconnecting");
				closeBody();
			}
		}
		catch (RuntimeException ex) {
			log.warn("eureka-rs push: periodic check failed", ex);
		}
	}

	private void run() {
		Duration backoff = this.properties.getInitialBackoff();
		int attempt = 0;
		while (this.running) {
			List<String> urls = candidates();
			if (urls.isEmpty()) {
				pause(this.properties.getMaxBackoff());
				continue;
			}
			if (this.switchRequested) {
				this.switchRequested = false;
				attempt = 0;
			}
			String url = urls.get(attempt % urls.size());
			Outcome outcome = follow(url);
			if (!this.running) {
				return;
			}
			switch (outcome) {
				case ENDED, INTERRUPTED -> {
					attempt = 0;
					backoff = this.properties.getInitialBackoff();
				}
				case UNSUPPORTED, REFUSED -> {
					attempt = 0;
					pause(this.properties.getUnsupportedRetryInterval());
				}
				case FAILED -> {
					attempt++;
					if (attempt % urls.size() == 0) {
						pause(backoff);
						backoff = backoff.multipliedBy(2).compareTo(this.properties.getMaxBackoff()) > 0
								? this.properties.getMaxBackoff() : backoff.multipliedBy(2);
					}
				}
			}
		}
	}

	/** Service URLs to try, the one the client last fetched from first. */
	List<String> candidates() {
		List<String> urls = new ArrayList<>(this.serviceUrls.get());
		FetchObserver.Fetch last = this.fetches.last();
		if (last != null) {
			for (int i = 0; i < urls.size(); i++) {
				if (Endpoints.normalize(urls.get(i)).equals(last.endpoint())) {
					urls.add(0, urls.remove(i));
					break;
				}
			}
		}
		return urls;
	}

	/** One connection: open it, read it until it ends. */
	Outcome follow(String serviceUrl) {
		String endpoint = Endpoints.normalize(serviceUrl);
		String lastId = endpoint.equals(this.resumeEndpoint) ? this.resumeId : null;
		HttpResponse<InputStream> response;
		try {
			response = this.http.watch(serviceUrl, lastId);
		}
		catch (IOException ex) {
			// The server went away (a restart starts its versions over, and a version we
			// resumed from could then name another change): start again from a snapshot.
			this.resumeEndpoint = null;
			this.resumeId = null;
			trouble(endpoint, ex.toString());
			return Outcome.FAILED;
		}
		catch (InterruptedException ex) {
			return Outcome.INTERRUPTED;
		}
		int status = response.statusCode();
		String type = response.headers().firstValue("Content-Type").orElse("");
		if (status != 200 || !type.startsWith("text/event-stream")) {
			close(response.body());
			if (status == 401 || status == 403) {
				if (!endpoint.equals(this.unsupportedLogged)) {
					log.warn("The registry at " + endpoint + " refused the change stream (HTTP " + status
							+ "); the Eureka client keeps polling. Asking again every "
							+ this.properties.getUnsupportedRetryInterval());
					this.unsupportedLogged = endpoint;
				}
				return Outcome.REFUSED;
			}
			if (status == 404 || status == 405 || status == 501 || status == 200) {
				if (!endpoint.equals(this.unsupportedLogged)) {
					log.info("The registry at " + endpoint + " has no change stream (HTTP " + status
							+ "); the Eureka client polls as before. Asking again every "
							+ this.properties.getUnsupportedRetryInterval());
					this.unsupportedLogged = endpoint;
				}
				return Outcome.UNSUPPORTED;
			}
			trouble(endpoint, "HTTP " + status);
			return Outcome.FAILED;
		}
		this.unsupportedLogged = null;
		if (this.troubleLogged || !endpoint.equals(this.announced)) {
			log.info("Following the eureka-rs change stream at " + endpoint
					+ (lastId != null ? " from version " + lastId : ""));
			this.announced = endpoint;
		}
		this.troubleLogged = false;
		boolean delivered = read(endpoint, response.body());
		if (!this.running || this.switchRequested) {
			return Outcome.INTERRUPTED;
		}
		return delivered ? Outcome.ENDED : Outcome.FAILED;
	}

	/** Reads events until the stream ends; whether it delivered any. */
	private boolean read(String endpoint, InputStream in) {
		this.body = in;
		this.connectedTo = endpoint;
		this.lastReadNanos = System.nanoTime();
		boolean[] delivered = { false };
		boolean[] bad = { false };
		SseParser parser = new SseParser(event -> {
			if (bad[0]) {
				return;
			}
			try {
				handle(endpoint, event);
				delivered[0] = true;
			}
			catch (IOException | RuntimeException ex) {
				// A change we cannot read must not be skipped silently: start over from a
				// snapshot, which replaces the whole copy.
				log.warn("eureka-rs push: cannot apply a " + event.type() + " event from " + endpoint
						+ "; reopening the stream from a snapshot: " + ex);
				this.resumeEndpoint = null;
				this.resumeId = null;
				bad[0] = true;
				closeBody();
			}
		});
		try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
			for (String line; this.running && (line = reader.readLine()) != null;) {
				this.lastReadNanos = System.nanoTime();
				parser.line(line);
			}
			if (log.isDebugEnabled()) {
				log.debug("The eureka-rs change stream at " + endpoint + " ended");
			}
		}
		catch (IOException ex) {
			if (this.running && !this.switchRequested && log.isDebugEnabled()) {
				log.debug("The eureka-rs change stream at " + endpoint + " broke: " + ex);
			}
		}
		finally {
			this.body = null;
			this.connectedTo = null;
			close(in);
		}
		return delivered[0];
	}

	private void handle(String endpoint, SseEvent event) throws IOException {
		switch (event.type()) {
			case "snapshot" -> {
				long version = parseId(event);
				this.registry.snapshot(endpoint, version, StreamCodec.snapshot(event.data()));
			}
			case "change" -> {
				RegistryChange change = StreamCodec.change(event.data());
				this.registry.change(endpoint, change);
			}
			default -> {
				return;
			}
		}
		if (event.id() != null) {
			this.resumeEndpoint = endpoint;
			this.resumeId = event.id();
		}
	}

	private static long parseId(SseEvent event) throws IOException {
		try {
			return Long.parseLong(event.id());
		}
		catch (NumberFormatException | NullPointerException ex) {
			throw new IOException("snapshot event without a numeric id: " + event.id());
		}
	}

	private void trouble(String endpoint, String why) {
		if (!this.troubleLogged) {
			log.info("Cannot follow the eureka-rs change stream at " + endpoint + " (" + why
					+ "); the Eureka client keeps polling, retrying with back-off");
			this.troubleLogged = true;
		}
		else if (log.isDebugEnabled()) {
			log.debug("Cannot follow the eureka-rs change stream at " + endpoint + " (" + why + ")");
		}
	}

	private void pause(Duration d) {
		synchronized (this.sleeper) {
			if (!this.running || this.switchRequested) {
				return;
			}
			try {
				this.sleeper.wait(Math.max(1, d.toMillis()));
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	private void wake() {
		synchronized (this.sleeper) {
			this.sleeper.notifyAll();
		}
	}

	private void closeBody() {
		close(this.body);
	}

	private static void close(InputStream in) {
		if (in != null) {
			try {
				in.close();
			}
			catch (IOException ex) {
				// closing only ends the connection
			}
		}
	}

}
