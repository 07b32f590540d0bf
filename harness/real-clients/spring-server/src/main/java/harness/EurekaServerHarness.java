package harness;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.cloud.netflix.eureka.server.EnableEurekaServer;

/**
 * The real Spring Cloud Netflix Eureka server, used by the compatibility tests as a reference node and
 * as a peer of our server. Everything is configured in application.yml; any property can be overridden
 * on the command line with --key=value (see harness/real-clients/README.md).
 */
@SpringBootApplication
@EnableEurekaServer
public class EurekaServerHarness {

    /**
     * With the 1 s test timers, eureka-core logs two INFO lines every second ("Running the evict task
     * with compensationTime 0ms" and "Current renewal threshold is : 0"). They are dropped here so that
     * the rest of com.netflix.eureka can stay at INFO (registrations, cancels, replication, peers).
     */
    static final class DropPeriodicNoise extends TurboFilter {
        @Override
        public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params,
                                  Throwable t) {
            if (format != null && level == Level.INFO
                    && (format.startsWith("Running the evict task") || format.startsWith("Current renewal threshold"))) {
                return FilterReply.DENY;
            }
            return FilterReply.NEUTRAL;
        }
    }

    public static void main(String[] args) {
        SpringApplication app = new SpringApplication(EurekaServerHarness.class);
        // Spring Boot resets logback while it prepares the environment, so install the filter after that
        app.addListeners(event -> {
            if (event instanceof ApplicationEnvironmentPreparedEvent
                    && LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx) {
                DropPeriodicNoise filter = new DropPeriodicNoise();
                filter.start();
                ctx.addTurboFilter(filter);
            }
        });
        app.run(args);
    }
}
