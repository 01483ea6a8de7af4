package api

import "net/http"

func (s *Server) registerSiteContext(mux *http.ServeMux) {}
