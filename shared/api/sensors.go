package api

import "net/http"

func (s *Server) registerSensors(mux *http.ServeMux) {}
