package io.eurekars.spring.push;

import java.net.http.HttpResponse;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import com.netflix.appinfo.InstanceInfo;
import com.netflix.discovery.EurekaClient;
import com.netflix.discovery.EurekaClientConfig;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.cloud.netflix.eureka.serviceregistry.EurekaAutoServiceRegistration;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.core.Ordered;

/**
 * Takes the instance out of the registry when the application context closes, before any
 * lifecycle stops, so before Spring Boot's graceful shutdown makes the web server refuse new
 * requests. Stock Spring Cloud only marks the instance DOWN then (sent in the background) and
 * cancels it after the web server is gone, so callers keep choosing an instance that refuses
 * them.
 *
 * <p>
 * First it marks the instance OUT_OF_SERVICE on the registry ({@code PUT .../status}, pushed to
 * every watcher at once), or with {@code drain-on-shutdown} drains it (eureka-rs answers once
 * every watcher has seen that, or at the timeout). Then it shuts the Eureka client down, which
 * stops heartbeats and cancels the registration (the cancel also drops the status override),
 * and keeps serving for {@code shutdown-delay} so calls already on their way land.
 */
final class ShutdownDeregistration implements ApplicationListener<ContextClosedEvent>, Ordered {

	private static final Log log = LogFactory.getLog(ShutdownDeregistration.class);

	private final ApplicationContext context;

	private final EurekaPushProperties properties;

	private final EurekaClientConfig clientConfig;

	private final ObjectProvider<EurekaClient> client;

	private final ObjectProvider<EurekaAutoServiceRegistration> registration;

	private final StreamHttp http;

	private final java.util.function.Supplier<Optional<String>> server;

	private final AtomicBoolean done = new AtomicBoolean();

	ShutdownDeregistration(ApplicationContext context, EurekaPushProperties properties,
			EurekaClientConfig clientConfig, ObjectProvider<EurekaClient> client,
			ObjectProvider<EurekaAutoServiceRegistration> registration, StreamHttp http,
			java.util.function.Supplier<Optional<String>> server) {
		this.context = context;
		this.properties = properties;
		this.clientConfig = clientConfig;
		this.client = client;
		this.registration = registration;
		this.http = http;
		this.server = server;
	}

	@Override
	public int getOrder() {
		// Before Spring Cloud's own listener marks the instance DOWN.
		return Ordered.HIGHEST_PRECEDENCE;
	}

	@Override
	public void onApplicationEvent(ContextClosedEvent event) {
		// Child contexts (one per load-balanced service) close too; only ours counts.
		if (event.getApplicationContext() != this.context || !this.done.compareAndSet(false, true)) {
			return;
		}
		if (!this.properties.isDeregisterOnShutdown() || !this.clientConfig.shouldRegisterWithEureka()
				|| !this.clientConfig.shouldUnregisterOnShutdown()) {
			return;
		}
		EurekaAutoServiceRegistration auto = this.registration.getIfAvailable();
		EurekaClient eureka = this.client.getIfAvailable();
		if (auto == null || !auto.isRunning() || eureka == null) {
			return;
		}
		InstanceInfo me = eureka.getApplicationInfoManager().getInfo();
		long started = System.nanoTime();
		String outOfService = this.properties.isDrainOnShutdown() ? drain(me) : outOfService(me);
		// Cancels the registration (DELETE) after stopping heartbeats; the client first waits up to
		// 3 s for its pending re-registration task, so callers were told above, at once.
		eureka.shutdown();
		long took = (System.nanoTime() - started) / 1_000_000;
		log.info("Deregistered " + me.getAppName() + "/" + me.getId() + " before the web server stops ("
				+ outOfService + ", then cancelled) in " + took + " ms; serving "
				+ this.properties.getShutdownDelay().toMillis() + " ms more for calls on their way");
		try {
			Thread.sleep(this.properties.getShutdownDelay().toMillis());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	/** Marks the instance OUT_OF_SERVICE on the stream's server; the outcome for the log. */
	private String outOfService(InstanceInfo me) {
		Optional<String> url = this.server.get();
		if (url.isEmpty()) {
			return "no service URL";
		}
		try {
			int status = this.http.outOfService(url.get(), me.getAppName(), me.getId());
			return status == 200 ? "out of service" : "status update answered HTTP " + status;
		}
		catch (java.io.IOException ex) {
			return "status update failed: " + ex;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return "interrupted";
		}
	}

	/** Drains through the stream's server; a short description of the outcome for the log. */
	private String drain(InstanceInfo me) {
		Optional<String> url = this.server.get();
		if (url.isEmpty()) {
			return "no service URL";
		}
		try {
			HttpResponse<String> r = this.http.drain(url.get(), me.getAppName(), me.getId(),
					this.properties.getDrainTimeout());
			if (r.statusCode() == 200) {
				boolean complete = r.body() != null && r.body().replace(" ", "").contains("\"complete\":true");
				return complete ? "drained, seen by every watcher" : "drain timed out: " + r.body();
			}
			// The Java server has no drain: out of service is the nearest it offers.
			return "no drain (HTTP " + r.statusCode() + "), " + outOfService(me);
		}
		catch (java.io.IOException ex) {
			return "failed: " + ex;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return "interrupted";
		}
	}

}
