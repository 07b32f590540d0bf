package io.eurekars.spring.push;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import javax.net.ssl.SSLContext;

/**
 * The HTTP side of the stream and of drain: one JDK {@link HttpClient} with the Eureka
 * client's TLS context, each request carrying the credentials of its service URL
 * ({@code http://user:pass@host/eureka/}) as the client's own transports send them.
 *
 * <p>
 * A JDK client rather than the Eureka transport's RestTemplate or RestClient: their Apache
 * HttpClient drains a response body when it is closed, which never ends on an endless stream;
 * here closing the body ends the connection at once.
 */
final class StreamHttp {

	private final HttpClient client;

	private final Duration requestTimeout;

	private final String clientId;

	StreamHttp(SSLContext ssl, Duration connectTimeout, Duration requestTimeout, String clientId) {
		HttpClient.Builder b = HttpClient.newBuilder()
			.version(HttpClient.Version.HTTP_1_1)
			.connectTimeout(connectTimeout)
			.followRedirects(HttpClient.Redirect.NEVER);
		if (ssl != null) {
			b.sslContext(ssl);
		}
		this.client = b.build();
		this.requestTimeout = requestTimeout;
		this.clientId = clientId;
	}

	/** {@code GET {serviceUrl}watch}, its headers received; the caller closes the body. */
	HttpResponse<InputStream> watch(String serviceUrl, String lastEventId) throws IOException, InterruptedException {
		HttpRequest.Builder r = request(serviceUrl, "watch").GET().header("Accept", "text/event-stream");
		if (lastEventId != null) {
			r.header("Last-Event-ID", lastEventId);
		}
		return this.client.send(r.build(), HttpResponse.BodyHandlers.ofInputStream());
	}

	/** {@code POST {serviceUrl}apps/{app}/{id}/drain?wait=S}: status and body. */
	HttpResponse<String> drain(String serviceUrl, String app, String id, Duration wait)
			throws IOException, InterruptedException {
		String path = "apps/" + encode(app) + "/" + encode(id) + "/drain?wait=" + Math.max(0, wait.toSeconds());
		HttpRequest req = request(serviceUrl, path).timeout(wait.plus(this.requestTimeout))
			.POST(HttpRequest.BodyPublishers.noBody())
			.header("Accept", "application/json")
			.build();
		return this.client.send(req, HttpResponse.BodyHandlers.ofString());
	}

	/** {@code PUT {serviceUrl}apps/{app}/{id}/status?value=OUT_OF_SERVICE}: the status code. */
	int outOfService(String serviceUrl, String app, String id) throws IOException, InterruptedException {
		String path = "apps/" + encode(app) + "/" + encode(id) + "/status?value=OUT_OF_SERVICE";
		HttpRequest req = request(serviceUrl, path).timeout(this.requestTimeout)
			.PUT(HttpRequest.BodyPublishers.noBody())
			.build();
		return this.client.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
	}

	private HttpRequest.Builder request(String serviceUrl, String path) {
		HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(Endpoints.normalize(serviceUrl) + path));
		String auth = Endpoints.basicAuth(serviceUrl);
		if (auth != null) {
			r.header("Authorization", auth);
		}
		if (this.clientId != null) {
			r.header("X-Eureka-Client-Id", this.clientId);
		}
		return r;
	}

	/** A path segment: instance ids hold {@code :}, which is fine in a path, but not spaces or slashes. */
	private static String encode(String segment) {
		StringBuilder out = new StringBuilder();
		for (byte b : segment.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
			int c = b & 0xff;
			boolean plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
					|| "-._~:@!$&'()*+,;=".indexOf(c) >= 0;
			if (plain) {
				out.append((char) c);
			}
			else {
				out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
					.append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
			}
		}
		return out.toString();
	}

	/** An id the server accepts in {@code X-Eureka-Client-Id} (1 to 256 printable ASCII), else {@code null}. */
	static String clientId(String id) {
		if (id == null || id.isEmpty() || id.length() > 256) {
			return null;
		}
		for (int i = 0; i < id.length(); i++) {
			char c = id.charAt(i);
			if (c <= ' ' || c > '~') {
				return null;
			}
		}
		return id;
	}

}
