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
 * With {@code drain-on-shutdown} it first drains the instance (eureka-rs answers once every
 * watcher has seen it OUT_OF_SERVICE, or at the timeout). Then it shuts the Eureka client down,
 * which cancels the registration and stops heartbeats, and keeps serving for
 * {@code shutdown-delay} so calls already on their way land.
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
		String drained = this.properties.isDrainOnShutdown() ? drain(me) : null;
		// Cancels the registration (DELETE), after stopping heartbeats and re-registrations.
		eureka.shutdown();
		long took = (System.nanoTime() - started) / 1_000_000;
		log.info("Deregistered " + me.getAppName() + "/" + me.getId() + " before the web server stops"
				+ (drained != null ? " (drain: " + drained + ")" : "") + " in " + took + " ms; serving "
				+ this.properties.getShutdownDelay().toMillis() + " ms more for calls on their way");
		try {
			Thread.sleep(this.properties.getShutdownDelay().toMillis());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
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
				return complete ? "seen by every watcher" : "timed out, not seen by every watcher: " + r.body();
			}
			return "not supported by the registry (HTTP " + r.statusCode() + ")";
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
