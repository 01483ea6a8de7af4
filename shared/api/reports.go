package api

import "net/http"

func (s *Server) registerReports(mux *http.ServeMux) {}
