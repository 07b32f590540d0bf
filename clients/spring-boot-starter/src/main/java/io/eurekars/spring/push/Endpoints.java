package io.eurekars.spring.push;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Service URLs as the Eureka client is given them ({@code http://user:pass@host:port/eureka/}). */
final class Endpoints {

	private Endpoints() {
	}

	/** The URL without credentials and with one trailing slash, to compare and to log. */
	static String normalize(String serviceUrl) {
		if (serviceUrl == null) {
			return null;
		}
		String url = serviceUrl.trim();
		try {
			URI uri = new URI(url);
			if (uri.getRawUserInfo() != null) {
				url = new URI(uri.getScheme(), null, uri.getHost(), uri.getPort(), uri.getRawPath(), null, null)
					.toString();
			}
		}
		catch (URISyntaxException ex) {
			// kept as given: the client would not reach it either
		}
		return url.endsWith("/") ? url : url + "/";
	}

	/** {@code Basic ...} for the URL's {@code user:password}, or {@code null} without one. */
	static String basicAuth(String serviceUrl) {
		try {
			// decoded, as the Eureka client's own transports read it
			String info = new URI(serviceUrl.trim()).getUserInfo();
			if (info == null || info.indexOf(':') < 0) {
				return null;
			}
			return "Basic " + Base64.getEncoder().encodeToString(info.getBytes(StandardCharsets.UTF_8));
		}
		catch (URISyntaxException ex) {
			return null;
		}
	}

}
