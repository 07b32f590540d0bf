package io.eurekars.spring.push;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings of the eureka-rs push starter, under {@code eureka.client.push}. The defaults suit
 * production; adding the dependency is the only change an application needs.
 */
@ConfigurationProperties(prefix = EurekaPushProperties.PREFIX)
public class EurekaPushProperties {

	/** The property prefix. */
	public static final String PREFIX = "eureka.client.push";

	/**
	 * Whether to follow the registry's change stream and to deregister before the web server
	 * stops. False leaves the application exactly as without the starter.
	 */
	private boolean enabled = true;

	/** How long to wait for the stream's server to accept a connection. */
	private Duration connectTimeout = Duration.ofSeconds(5);

	/**
	 * A stream silent this long is taken as dead and reopened (the server sends a keep-alive
	 * comment every 15 s).
	 */
	private Duration idleTimeout = Duration.ofSeconds(45);

	/** The first wait before reconnecting after every service URL failed; it doubles. */
	private Duration initialBackoff = Duration.ofSeconds(1);

	/** The longest wait between reconnection rounds. */
	private Duration maxBackoff = Duration.ofSeconds(30);

	/**
	 * How often to ask again a registry that has no change stream (such as the Java Eureka
	 * server); the Eureka client polls meanwhile.
	 */
	private Duration unsupportedRetryInterval = Duration.ofMinutes(5);

	/**
	 * Whether to cancel the instance's registration when the application context closes,
	 * before the web server stops taking requests (Spring Cloud cancels only after it).
	 */
	private boolean deregisterOnShutdown = true;

	/**
	 * Whether to drain the instance before cancelling it on shutdown: eureka-rs marks it
	 * OUT_OF_SERVICE and answers once every watcher and identified poller has seen that.
	 */
	private boolean drainOnShutdown = false;

	/** The longest wait for the drain answer on shutdown. */
	private Duration drainTimeout = Duration.ofSeconds(10);

	/**
	 * How long to keep serving after the cancel before the web server stops taking requests,
	 * so that calls already on their way still land.
	 */
	private Duration shutdownDelay = Duration.ofMillis(500);

	public boolean isEnabled() {
		return this.enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	public Duration getConnectTimeout() {
		return this.connectTimeout;
	}

	public void setConnectTimeout(Duration connectTimeout) {
		this.connectTimeout = connectTimeout;
	}

	public Duration getIdleTimeout() {
		return this.idleTimeout;
	}

	public void setIdleTimeout(Duration idleTimeout) {
		this.idleTimeout = idleTimeout;
	}

	public Duration getInitialBackoff() {
		return this.initialBackoff;
	}

	public void setInitialBackoff(Duration initialBackoff) {
		this.initialBackoff = initialBackoff;
	}

	public Duration getMaxBackoff() {
		return this.maxBackoff;
	}

	public void setMaxBackoff(Duration maxBackoff) {
		this.maxBackoff = maxBackoff;
	}

	public Duration getUnsupportedRetryInterval() {
		return this.unsupportedRetryInterval;
	}

	public void setUnsupportedRetryInterval(Duration unsupportedRetryInterval) {
		this.unsupportedRetryInterval = unsupportedRetryInterval;
	}

	public boolean isDeregisterOnShutdown() {
		return this.deregisterOnShutdown;
	}

	public void setDeregisterOnShutdown(boolean deregisterOnShutdown) {
		this.deregisterOnShutdown = deregisterOnShutdown;
	}

	public boolean isDrainOnShutdown() {
		return this.drainOnShutdown;
	}

	public void setDrainOnShutdown(boolean drainOnShutdown) {
		this.drainOnShutdown = drainOnShutdown;
	}

	public Duration getDrainTimeout() {
		return this.drainTimeout;
	}

	public void setDrainTimeout(Duration drainTimeout) {
		this.drainTimeout = drainTimeout;
	}

	public Duration getShutdownDelay() {
		return this.shutdownDelay;
	}

	public void setShutdownDelay(Duration shutdownDelay) {
		this.shutdownDelay = shutdownDelay;
	}

}
