// Swagger UI over /openapi.json; requests made from it carry the key entered on the other pages, if any.
window.SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger',
  deepLinking: true,
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
  requestInterceptor: (req) => {
    const key = sessionStorage.getItem('lstmcast.apiKey');
    if (key && !req.headers.Authorization) req.headers.Authorization = 'Bearer ' + key;
    return req;
  },
});
